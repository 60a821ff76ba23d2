#!/usr/bin/env bash
# Non-stream A/B of LLMux builds against the bare YARP forwarder, interleaved (A/B/A/B) so that the drift of a shared
# machine hits every target alike. Each target is started fresh in each round, warmed, then measured.
# Usage: bench/ab.sh [--mode alloc|wrk] [--rounds R] [--seconds S] [--warm-seconds S] [--concurrency C] [--path P]
#                    [--format openai|responses] [--stream] TARGET...
#   TARGET: NAME=DLL[,ENV=VALUE...] for an LLMux build (e.g. new=src/Host/bin/Release/net10.0/llmux.dll), or the word
#   yarp (llmux-load's bare YARP forwarder), or (wrk mode) direct (the upstream itself, for the added latency).
#   --mode alloc (default): the C# harness (llmux-load run, closed loop) against the C# OpenAI emulator (or the Responses
#     emulator with --format responses); the target's whole-process bytes allocated per request (System.Runtime
#     counters over EventPipe), gen0 GCs and its own CPU time per request from /proc. Allocation counts do not depend on
#     the machine's load; CPU per request does, a little.
#   --mode wrk: the Node tools of ../shared/peers on the same cores (load.sh with wrk, one thread; the Node mock upstream);
#     RPS, p50/p99 and the target's CPU time per request. PEERS_DIR as in bench/run.sh.
# One JSON line per target and round on stdout, then a summary (medians per target). Loopback only (ports
# BENCH_PORT_BASE.. +3, default 18700); every process is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=alloc; rounds=3; secs=5; warm=3; conc=32; format=openai; stream=; targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --seconds) secs=$2; shift ;;
    --warm-seconds) warm=$2; shift ;;
    --concurrency) conc=$2; shift ;;
    --format) format=$2; shift ;;
    --stream) stream=--stream ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || { echo "no targets" >&2; exit 2; }
PEERS=${PEERS_DIR:-/work/shared/peers}
B=${BENCH_PORT_BASE:-18700}; UP=$B; PORT=$((B + 1))
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
[ -f "$load" ] || dotnet build -c Release -v q -nologo bench/LLMux.Load >/dev/null
work=$(mktemp -d); pids=(); rows="$work/rows.jsonl"; : >"$rows"
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; return 1; }
cpu_s() { awk '{printf "%.3f", ($14 + $15) / 100}' /proc/"$1"/stat; }
rss_mb() { awk '/VmRSS/ {print int($2/1024)}' /proc/"$1"/status; }

model=bench; upath=/v1/chat/completions; uformat=openai
[ "$format" = responses ] && { upath=/v1/responses; uformat=responses; }
if [ "$mode" = wrk ]; then
  [ -f "$PEERS/load.sh" ] && [ -f "$PEERS/mock/mock_openai.mjs" ] || { echo "$PEERS/load.sh or the Node mock missing" >&2; exit 2; }
  env MOCK_CHUNKS=64 MOCK_CHUNK_DELAY_MS=20 node "$PEERS/mock/mock_openai.mjs" $UP >"$work/up.log" 2>&1 & up_pid=$!; pids+=($up_pid)
  model=mock-model
else
  env DOTNET_gcServer=1 dotnet "$load" upstream --format "$uformat" --port $UP --chunks 64 --max-seconds 3600 >"$work/up.log" 2>&1 & up_pid=$!; pids+=($up_pid)
fi
wait_port $UP
cat > "$work/config.yaml" <<YAML
model_list:
  - model_name: $model
    litellm_params:
      model: openai/$model
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-bench
      responses_api: native
router_settings:
  num_retries: 0
YAML

for r in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    name=${t%%=*}; envs=(); port=$PORT; pid=
    case "$t" in
      yarp) cmd=(dotnet "$load" yarp --port $PORT --target "http://127.0.0.1:$UP" --max-seconds 3600); envs=(DOTNET_gcServer=1) ;;
      direct) cmd=(); port=$UP; pid=$up_pid ;;
      *) spec=${t#*=}; IFS=, read -ra parts <<<"$spec"; dll=${parts[0]}; envs=("${parts[@]:1}")
         cmd=(dotnet "$dll" --config "$work/config.yaml" --port $PORT) ;;
    esac
    if [ ${#cmd[@]} -gt 0 ]; then env "${envs[@]}" "${cmd[@]}" >"$work/$name.log" 2>&1 & pid=$!; pids+=($pid); wait_port $PORT; sleep 0.5; fi
    url="http://127.0.0.1:$port$upath"
    la=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$mode" = wrk ]; then
      LOAD_TOOL=wrk bash "$PEERS/load.sh" "$url" "$model" "$conc" "$warm" >/dev/null
      c0=$(cpu_s $pid)
      res=$(LOAD_TOOL=wrk bash "$PEERS/load.sh" "$url" "$model" "$conc" "$secs" | awk '/^RESULT /')
      c1=$(cpu_s $pid); rss=$(rss_mb $pid)
      python3 - "$name" "$r" "$la" "$c0" "$c1" "$rss" "$res" >>"$rows" <<'PY'
import json, sys
name, r, la, c0, c1, rss, res = sys.argv[1:]
kv = dict(p.split("=", 1) for p in res.split()[1:])
n = int(kv.get("requests") or 0)
print(json.dumps({"name": name, "round": int(r), "load": float(la), "rps": float(kv["rps"]), "p50_ms": float(kv["p50_ms"]), "p99_ms": float(kv["p99_ms"]),
                  "requests": n, "errors": int(kv.get("errors") or 0) + int(kv.get("non2xx") or 0),
                  "cpu_us_per_req": round((float(c1) - float(c0)) * 1e6 / max(n, 1), 1), "rss_mb": int(rss)}))
PY
    else
      dotnet "$load" run --name warm --url "$url" --format "$format" --model "$model" --concurrency "$conc" --seconds "$warm" --warmup 1 $stream >/dev/null
      # What the process allocates with (almost) no requests over a window of the same length (timers, counters, late
      # tier-1 JIT): subtracted, so that a slow round on a loaded machine does not inflate the bytes per request.
      idle=$(dotnet "$load" run --name idle --url "$url" --format "$format" --model "$model" --rate 1 --seconds "$secs" --warmup 0 $stream --watch-pid "$pid" | tail -1)
      out=$(dotnet "$load" run --name "$name" --url "$url" --format "$format" --model "$model" --concurrency "$conc" --seconds "$secs" --warmup 1 $stream --watch-pid "$pid" | tail -1)
      python3 - "$name" "$r" "$la" "$out" "$idle" >>"$rows" <<'PY'
import json, sys
name, r, la, out, idle = sys.argv[1:]
o = json.loads(out); p = o.get("Process") or {}; c = p.get("Runtime") or {}
i = json.loads(idle); ip = i.get("Process") or {}; ic = ip.get("Runtime") or {}
n = max(o.get("Requests") or 0, 1)
# idle window: its few requests are counted at the loaded window's own rate of bytes per request, once, below
idle_bytes = max((ic.get("AllocatedBytes") or 0), 0)
print(json.dumps({"name": name, "round": int(r), "load": float(la), "rps": round(o.get("Rps", 0)), "requests": o.get("Requests"),
                  "errors": o.get("Errors"), "bytes_per_req": round(((c.get("AllocatedBytes") or 0) - idle_bytes) / n),
                  "raw_bytes_per_req": round((c.get("AllocatedBytes") or 0) / n), "idle_bytes": idle_bytes,
                  "gen0_per_10k": round((c.get("Gen0") or 0) * 10000 / n, 1), "cpu_us_per_req": round((p.get("CpuSeconds") or 0) * 1e6 / n, 1),
                  "rss_max_mb": p.get("RssMaxMb")}))
PY
    fi
    tail -1 "$rows"
    [ "$t" = direct ] || { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  done
done
python3 - "$rows" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["name"] for r in rows))
keys = [k for k in ("rps", "p50_ms", "p99_ms", "bytes_per_req", "raw_bytes_per_req", "gen0_per_10k", "cpu_us_per_req", "rss_mb", "rss_max_mb") if k in rows[0]]
print("# medians over rounds (load average %s–%s)" % (min(r["load"] for r in rows), max(r["load"] for r in rows)))
for n in names:
    rs = [r for r in rows if r["name"] == n]
    print("# %-10s " % n + "  ".join("%s=%s" % (k, statistics.median(r[k] for r in rs if r.get(k) is not None)) for k in keys)
          + "  per round: " + " / ".join(str(r.get("rps")) for r in rs) + " rps")
PY
