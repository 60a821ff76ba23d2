#!/usr/bin/env bash
# Response-cache load figures: hit throughput and latency on the memory store and on a real Redis, side by side with a
# direct call to the upstream emulator and with LLMux without a cache, in the same run on the same machine.
# Usage: bench/cache.sh [--quick] [--out FILE]   (bench/run.sh calls it with its own --quick)
#   Targets, interleaved within each repeat so that drift hits them alike:
#     direct        the OpenAI emulator itself (no gateway)
#     llmux         LLMux without a cache (every request an upstream call)
#     local-hit     LLMux with cache_params.type local, every request the same body: answered from memory
#     local-miss    the same host, body with cache: {s-maxage: 0}: each request looks up, calls the upstream, stores
#     redis-hit     LLMux with cache_params.type redis on a redis-server of this run (.ci/services.sh llmux_redis_start)
#     redis-miss    as local-miss, on Redis
#   Non-stream (32 connections) and stream (32 connections, 64 chunks) rows; the upstream's request count during each
#   run is reported, so a "hit" row that reached the upstream shows it. Load average at start and end is in the report.
# BENCH_PORT_BASE (default 18190): first of 15 loopback ports. Everything binds to 127.0.0.1, runs are bounded in time,
# and every process this script starts (hosts, emulator, Redis) is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then secs=3; warm=1; reps=1; else secs=8; warm=2; reps=3; fi

B=${BENCH_PORT_BASE:-18190}
UP=$B; PLAIN=$((B + 1)); LOCAL=$((B + 2)); REDIS_HOST_PORT=$((B + 3)); STATS=$((B + 10))
for port in $UP $PLAIN $LOCAL $REDIS_HOST_PORT $STATS; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is already in use; set BENCH_PORT_BASE" >&2; exit 1; fi
done

work=$(mktemp -d)
pids=()
# shellcheck source=../.ci/services.sh
LLMUX_SERVICES_NO_START=1 source .ci/services.sh
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  llmux_redis_stop
  rm -rf "$work"
}
trap cleanup EXIT

[ "${BENCH_NO_BUILD:-}" = 1 ] || for p in src/Host bench/LLMux.Load; do dotnet build -c Release -v q -nologo "$p" >/dev/null || { echo "build of $p failed" >&2; exit 1; }; done
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
host=src/Host/bin/Release/net10.0/llmux.dll
results="$work/results.jsonl"; : >"$results"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

llmux_redis_start
echo "== Redis on 127.0.0.1:$LLMUX_REDIS_PORT ($LLMUX_REDIS_DIR)"

config() { # file cache-params-yaml-or-empty
  {
    cat <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-bench
router_settings:
  num_retries: 0
YAML
    if [ -n "$2" ]; then printf 'litellm_settings:\n  cache: true\n  cache_params:\n    ttl: 3600\n%s\n' "$2"; fi
  } >"$1"
}
config "$work/plain.yaml" ""
config "$work/local.yaml" "    type: local
    max_size_in_memory: 1000"
config "$work/redis.yaml" "    type: redis
    host: 127.0.0.1
    port: $LLMUX_REDIS_PORT
    namespace: bench"

wait_http() { for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "nothing answers on port $1" >&2; return 1; }
env DOTNET_gcServer=1 dotnet "$load" upstream --format openai --port $UP --stats-port $STATS --chunks 64 --max-seconds 1800 >"$work/up.log" 2>&1 & pids+=($!)
# The cache hosts must not pick up another Redis or database from the environment.
start_host() { # name port config
  env -u REDIS_URL -u DATABASE_URL -u REDIS_HOST dotnet "$host" --config "$3" --port "$2" >"$work/$1.log" 2>&1 & pids+=($!)
  eval "pid_$1=$!"
}
start_host plain $PLAIN "$work/plain.yaml"
start_host local $LOCAL "$work/local.yaml"
start_host redis $REDIS_HOST_PORT "$work/redis.yaml"
for p in $PLAIN $LOCAL $REDIS_HOST_PORT; do wait_http $p; done

prompt="Say something about load testing."
for s in false true; do
  printf '{"model":"bench","stream":%s,"messages":[{"role":"user","content":"%s"}]}' "$s" "$prompt" >"$work/hit-$s.json"
  printf '{"model":"bench","stream":%s,"messages":[{"role":"user","content":"%s"}],"cache":{"s-maxage":0}}' "$s" "$prompt" >"$work/miss-$s.json"
done
# Fill both caches (a miss each) so that the hit rows measure hits from their first request.
for p in $LOCAL $REDIS_HOST_PORT; do
  for s in false true; do
    curl -s -o /dev/null "http://127.0.0.1:$p/v1/chat/completions" -H 'content-type: application/json' --data-binary "@$work/hit-$s.json"
    c=$(curl -s -D - -o /dev/null "http://127.0.0.1:$p/v1/chat/completions" -H 'content-type: application/json' --data-binary "@$work/hit-$s.json" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-llmux-cache" {print $2}')
    [ "$c" = hit ] || { echo "host on port $p: a repeated request was not a cache hit (x-llmux-cache: ${c:-none})" >&2; tail -20 "$work"/*.log >&2; exit 1; }
  done
done

run() { # name port body-kind stream pid
  local name=$1 port=$2 kind=$3 stream=$4 pid=$5
  local path=/v1/chat/completions
  local args=(--name "$name$([ "$stream" = true ] && echo -stream)" --url "http://127.0.0.1:$port$path" --model bench --seconds $secs --warmup $warm
              --concurrency 32 --json "$results" --upstream-stats "http://127.0.0.1:$STATS/_stats")
  [ "$stream" = true ] && args+=(--stream)
  [ -n "$kind" ] && args+=(--body-file "$work/$kind-$stream.json")
  [ -n "$pid" ] && args+=(--watch-pid "$pid")
  dotnet "$load" run "${args[@]}" >/dev/null || { echo "scenario $name failed (no requests moved)" >&2; exit 1; }
}
for r in $(seq 1 $reps); do
  for s in false true; do
    echo "== [${SECONDS}s] repeat $r, stream=$s"
    run direct $UP "" $s ""
    run llmux $PLAIN "" $s "$pid_plain"
    run local-hit $LOCAL hit $s "$pid_local"
    run redis-hit $REDIS_HOST_PORT hit $s "$pid_redis"
    run local-miss $LOCAL miss $s "$pid_local"
    run redis-miss $REDIS_HOST_PORT miss $s "$pid_redis"
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$results" "$load_start" "$load_end" "$quick" "$(date -u '+%Y-%m-%d %H:%M')" "$secs" "$reps" >"$work/report.md" <<'PY'
import json, statistics, sys
path, load_start, load_end, quick, date, secs, reps = sys.argv[1:]
rows = {}
for line in open(path):
    r = json.loads(line)
    rows.setdefault(r["Target"], []).append(r)
def med(name, key):
    v = [r[key] for r in rows.get(name, []) if r.get(key) is not None]
    return statistics.median(v) if v else None
def upstream(name):
    v = [(r.get("UpstreamDelta") or {}).get("Requests") for r in rows.get(name, [])]
    v = [x for x in v if x is not None]
    return int(statistics.median(v)) if v else None
def cpu(name):
    v = [(r.get("Process") or {}).get("CpuSeconds") for r in rows.get(name, [])]
    v = [x for x in v if x]
    return statistics.median(v) if v else None
print(f"Written by `bench/cache.sh{' --quick' if quick == '1' else ''}` ({date} UTC; {reps} repeat(s) of {secs} s per row, median shown; "
      f"load average {load_start} at start, {load_end} at end, on 2 cores shared with other agents — compare ratios, not absolute figures).")
print()
for stream in (False, True):
    sfx = "-stream" if stream else ""
    base = med("direct" + sfx, "Rps")
    print(f"**{'Streams (64 chunks, no delay)' if stream else 'Non-stream JSON'}, 32 connections**")
    print()
    print("| target | req/s | × direct | × LLMux without cache | p50 ms | p99 ms | upstream calls in the run | host CPU ms per request | × LLMux without cache |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    # CPU per request of the host under test: steadier than req/s when other processes take the cores.
    def per_req(n):
        c, rps = cpu(n), med(n, "Rps")
        return c * 1000 / (rps * float(secs)) if c and rps else None
    plain_cpu = per_req("llmux" + sfx)
    plain = med("llmux" + sfx, "Rps")
    for name in ("direct", "llmux", "local-hit", "redis-hit", "local-miss", "redis-miss"):
        n = name + sfx
        rps = med(n, "Rps")
        if rps is None: continue
        p50 = med(n, "P50Us"); p99 = med(n, "P99Us")
        c = per_req(n)
        print(f"| {name} | {rps:,.0f} | {rps / base:.2f} | {rps / plain:.2f} | {p50 / 1000:.2f} | {p99 / 1000:.2f} | {upstream(n) if upstream(n) is not None else '–'} | {f'{c:.2f}' if c else '–'} | {f'{c / plain_cpu:.2f}' if c and plain_cpu else '–'} |")
    print()
PY
cat "$work/report.md"
if [ -n "$out" ]; then cp "$work/report.md" "$out"; echo "written to $out"; fi
