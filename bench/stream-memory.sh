#!/usr/bin/env bash
# Memory under concurrent streams, A/B: each target is started fresh, warmed with the closed loop (32 connections, as
# bench/run.sh's scenarios before the streams do), then given N concurrent streams (the OpenAI emulator, 64 chunks
# 20 ms apart) for a fixed time; targets are interleaved within each round so drift hits them alike.
# Usage: bench/stream-memory.sh [--rounds R] [--streams N] [--seconds S] [--warm-seconds S] [--gcdump] TARGET...
#   TARGET is NAME=DLL[,ENV=VALUE...] for an LLMux build (e.g. base=/tmp/base/llmux.dll,DOTNET_GCHeapCount=1; a path
#   that is not a .dll is run as a native AOT executable), or
#   the word yarp (the bare YARP forwarder of llmux-load). --gcdump takes a heap snapshot of each target mid-stream
#   (dotnet-gcdump, if on PATH) and prints its largest types by total size (reports kept in GCDUMP_DIR if set); --smaps prints the resident memory by mapping kind at
#   the sample with the most resident memory (bench/smaps_peak.py); --counters prints the largest GC
#   committed memory after a collection seen during the streams (dotnet-counters, if on PATH). One row per target and round on stdout (JSON lines).
# Everything binds to 127.0.0.1 (ports BENCH_PORT_BASE.. +12, default 18600); every process is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2; streams=1024; secs=10; warm=5; gcdump=0; smaps=0; counters=0; targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --streams) streams=$2; shift ;;
    --seconds) secs=$2; shift ;;
    --warm-seconds) warm=$2; shift ;;
    --gcdump) gcdump=1 ;;
    --smaps) smaps=1 ;;
    --counters) counters=1 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || { echo "no targets" >&2; exit 2; }
B=${BENCH_PORT_BASE:-18600}; UP=$B; PORT=$((B + 1))
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
[ -f "$load" ] || dotnet build -c Release -v q -nologo bench/LLMux.Load >/dev/null
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; return 1; }
rss_mb() { awk '/VmRSS/ {print int($2/1024)}' /proc/"$1"/status; }
anon_mb() { awk '/RssAnon/ {print int($2/1024)}' /proc/"$1"/status; }

env DOTNET_gcServer=1 dotnet "$load" upstream --format openai --port $UP --chunks 64 --delay-ms 20 --max-seconds 3600 >"$work/up.log" 2>&1 & pids+=($!)
wait_port $UP
cat > "$work/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-bench
router_settings:
  num_retries: 0
YAML

for r in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    name=${t%%=*}; envs=()
    if [ "$t" = yarp ]; then
      cmd=(dotnet "$load" yarp --port $PORT --target "http://127.0.0.1:$UP" --max-seconds 3600); envs=(DOTNET_gcServer=1)
    else
      spec=${t#*=}; IFS=, read -ra parts <<<"$spec"; dll=${parts[0]}; envs=("${parts[@]:1}")
      # A .dll runs on the JIT host; anything else is a native (AOT) executable.
      if [[ $dll == *.dll ]]; then cmd=(dotnet "$dll" --config "$work/config.yaml" --port $PORT); else cmd=("$dll" --config "$work/config.yaml" --port $PORT); fi
    fi
    env "${envs[@]}" "${cmd[@]}" >"$work/$name.log" 2>&1 & pid=$!; pids+=($pid)
    wait_port $PORT; sleep 0.5
    idle=$(rss_mb $pid)
    dotnet "$load" run --name warm --url "http://127.0.0.1:$PORT/v1/chat/completions" --model bench --concurrency 32 --seconds "$warm" --warmup 1 >/dev/null
    warmed=$(rss_mb $pid)
    if [ "$gcdump" = 1 ] && command -v dotnet-gcdump >/dev/null; then
      ( sleep $((secs / 2 + 3)); dotnet-gcdump collect -p $pid -o "$work/$name-$r.gcdump" >/dev/null 2>&1 || true ) & dumper=$!
    fi
    [ "$smaps" = 1 ] && { python3 bench/smaps_peak.py $pid $((secs + 3)) "$work/$name-$r.smaps" & smapper=$!; }
    if [ "$counters" = 1 ] && command -v dotnet-counters >/dev/null; then
      dotnet-counters collect -p $pid --counters 'System.Runtime[dotnet.gc.last_collection.memory.committed_size]' --format csv \
        -o "$work/$name-$r.csv" --duration 00:00:00:$((secs + 3)) >/dev/null 2>&1 & counting=$!
    fi
    out=$(dotnet "$load" run --name "$name" --url "http://127.0.0.1:$PORT/v1/chat/completions" --model bench --concurrency "$streams" --stream --seconds "$secs" --warmup 3 --watch-pid $pid | tail -1)
    [ "$gcdump" = 1 ] && { wait "$dumper" 2>/dev/null || true; }
    after=$(rss_mb $pid); after_anon=$(anon_mb $pid)
    python3 - "$name" "$r" "$idle" "$warmed" "$after" "$after_anon" "$out" <<'PY'
import json, sys
name, r, idle, warmed, after, after_anon, out = sys.argv[1:]
o = json.loads(out); p = o.get("Process") or {}; c = p.get("Runtime") or {}
print(json.dumps({"name": name, "round": int(r), "idle_mb": int(idle), "after_warm_mb": int(warmed), "rss_max_mb": p.get("RssMaxMb"),
                  "anon_max_mb": p.get("AnonMaxMb"), "rss_after_mb": int(after), "anon_after_mb": int(after_anon), "streams": o.get("Streams"),
                  "stalled": o.get("StalledStreams"), "gap_p99_ms": round(o.get("GapP99Us", 0) / 1000, 1), "cpu_s": p.get("CpuSeconds"),
                  "gen0": c.get("Gen0"), "gen1": c.get("Gen1"), "gen2": c.get("Gen2"), "threads_max": p.get("ThreadsMax")}))
PY
    if [ "$gcdump" = 1 ] && [ -f "$work/$name-$r.gcdump" ]; then
      dotnet-gcdump report "$work/$name-$r.gcdump" >"${GCDUMP_DIR:-$work}/$name-$r.txt" 2>/dev/null || true
      python3 bench/gcdump_totals.py "${GCDUMP_DIR:-$work}/$name-$r.txt" --top 25 | sed "s/^/# $name-$r gcdump: /"
    fi
    if [ "$smaps" = 1 ]; then wait "$smapper" 2>/dev/null || true; sed "s/^/# $name-$r smaps: /" "$work/$name-$r.smaps"; fi
    if [ "$counters" = 1 ] && [ -n "${counting:-}" ]; then
      wait "$counting" 2>/dev/null || true
      python3 - "$work/$name-$r.csv" "$name-$r" <<'PY2' || true
import csv, sys
peak = {}
for row in csv.reader(open(sys.argv[1])):
    if len(row) < 5: continue
    try: v = float(row[4])
    except ValueError: continue
    peak[row[2]] = max(peak.get(row[2], 0), v)
for k, v in peak.items(): print(f"# {sys.argv[2]} counters: {k} max {v:.1f}")
PY2
    fi
    kill $pid; wait $pid 2>/dev/null || true
  done
done
