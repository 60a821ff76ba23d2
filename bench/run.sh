#!/usr/bin/env bash
# Load harness: LLMux vs a direct call to the upstream emulator vs a bare YARP forwarder, same run, same machine.
# Usage: bench/run.sh [--quick] [--aot|--no-aot] [--no-node] [--cache] [--out docs/benchmarks-load.md]
#   The full run (or --cache) also runs bench/cache.sh (response-cache hits on memory and Redis) into docs/benchmarks-cache.md.
#   Two conditions, both always reported: the C# harness (llmux-load as client and upstream) and the Node tools on the
#   same cores (../shared/peers: load.sh with wrk, stream_load.mjs, the Node mock upstream), as a new user measures.
#   PEERS_DIR: where those tools are (default /work/shared/peers); --no-node leaves that condition out.
#   The full run also publishes the host as Native AOT (needs clang) and measures it beside the JIT host;
#   --quick leaves it out unless --aot is given. The full run also runs the BenchmarkDotNet suite (short job) into
#   docs/benchmarks-micro.md (--no-micro skips it; --quick runs it only with --micro).
#   BENCH_PORT_BASE: first of the loopback ports used (default 18090; B..B+40 here with the emulators' stats ports, B+50..B+64 the cache run, B+70..B+71 the audio run); BENCH_RAW_DIR: keep the raw rows there
#   (then `python3 bench/report.py --results DIR/results.jsonl --meta DIR/meta.jsonl --out FILE` rewrites the report).
# Everything binds to 127.0.0.1, every run is bounded in time, and every process is stopped at exit.
# A scenario that moves no requests fails the run (llmux-load run exits 1); figures carry no timing assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; out=docs/benchmarks-load.md; aot=; micro=; node_tools=1; cache=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --aot) aot=1 ;;
    --no-aot) aot=0 ;;
    --micro) micro=1 ;;
    --no-micro) micro=0 ;;
    --no-node) node_tools=0 ;;
    --cache) cache=1 ;;
    --out) out="$2"; shift ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  secs=2; warm=1; reps=1; streams=(64); rate=200; tsecs=1
  slow_n=16; slow_bytes=$((4 * 1024 * 1024)); slow_pause=1500; abort_n=128; abort_conc=64; settle=1000
  node_secs=3; node_reps=1; node_conc=(32); node_streams=256
else
  secs=10; warm=3; reps=3; streams=(256 1024); rate=500; tsecs=5
  slow_n=32; slow_bytes=$((64 * 1024 * 1024)); slow_pause=5000; abort_n=1024; abort_conc=256; settle=3000
  node_secs=10; node_reps=3; node_conc=(32 128); node_streams=1024
fi
PEERS=${PEERS_DIR:-/work/shared/peers}
if [ "$node_tools" = 1 ] && ! { command -v node >/dev/null 2>&1 && [ -f "$PEERS/load.sh" ] && [ -f "$PEERS/stream_load.mjs" ] && [ -f "$PEERS/mock/mock_openai.mjs" ]; }; then
  echo "node or $PEERS/{load.sh,stream_load.mjs,mock/mock_openai.mjs} missing: the Node-tools condition is left out"; node_tools=0
fi

B=${BENCH_PORT_BASE:-18090}
UP=$B; YARP=$((B + 1)); LLMUX=$((B + 2))         # passthrough: OpenAI emulator, 64 chunks 20 ms apart
UP_ANTHROPIC=$((B + 3)); UP_GEMINI=$((B + 4)); UP_BEDROCK=$((B + 5))   # translating upstreams, 64 chunks, no delay
UP_BIG=$((B + 6)); YARP_BIG=$((B + 7))            # slow clients: a long, large stream
UP_RESPONSES=$((B + 30)); YARP_RESPONSES=$((B + 31))  # /v1/responses: OpenAI's Responses emulator, 64 chunks, no delay
STATS=$((B + 10))                                 # /_stats of upstream at port P is on P + 10
UP_NODE=$((B + 20)); YARP_NODE=$((B + 21))        # Node tools: the Node mock upstream (64 chunks 20 ms apart) and a YARP in front of it
for port in $(seq "$B" $((B + 30))); do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is already in use; set BENCH_PORT_BASE" >&2; exit 1; fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for p in src/Host bench/LLMux.Load; do dotnet build -c Release -v q -nologo "$p" >/dev/null || { echo "build of $p failed" >&2; exit 1; }; done
[ -n "$aot" ] || aot=$((1 - quick))
[ -n "$micro" ] || micro=$((1 - quick))
if [ "$aot" = 1 ]; then
  if command -v clang >/dev/null 2>&1; then
    echo "== publishing the Native AOT host"
    dotnet publish src/Host -c Release -r linux-x64 -p:PublishAot=true -o "$work/aot" -v q -nologo >"$work/aot-publish.log" 2>&1 \
      || { tail -20 "$work/aot-publish.log" >&2; echo "Native AOT publish failed" >&2; exit 1; }
  else
    echo "clang not found: the Native AOT host is left out"; aot=0
  fi
fi
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
host=src/Host/bin/Release/net10.0/llmux.dll
results="$work/results.jsonl"; meta="$work/meta.jsonl"; : >"$results"; : >"$meta"
printf '{"kind":"machine","load":"%s","quick":%d,"date":"%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$quick" "$(date -u '+%Y-%m-%d %H:%M')" >>"$meta"

cat > "$work/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-bench
  - model_name: bench-node
    litellm_params:
      model: openai/mock-model
      api_base: http://127.0.0.1:$UP_NODE/v1
      api_key: sk-bench
  - model_name: bench-big
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:$UP_BIG/v1
      api_key: sk-bench
  - model_name: bench-anthropic
    litellm_params:
      model: anthropic/claude-bench
      api_base: http://127.0.0.1:$UP_ANTHROPIC
      api_key: sk-ant-bench
  - model_name: bench-gemini
    litellm_params:
      model: gemini/gemini-bench
      api_base: http://127.0.0.1:$UP_GEMINI/v1beta
      api_key: gemini-test-key
  - model_name: bench-responses
    litellm_params:
      model: openai/bench
      api_base: http://127.0.0.1:$UP_RESPONSES/v1
      api_key: sk-bench
      responses_api: native
  - model_name: bench-bedrock
    litellm_params:
      model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0
      api_base: http://127.0.0.1:$UP_BEDROCK
      aws_access_key_id: AKIDEMULATOR
      aws_secret_access_key: emulator/secret+KEY
      aws_region_name: us-east-1
router_settings:
  num_retries: 0
YAML

wait_port() { # port: until it answers TCP (30 s at most)
  for _ in $(seq 1 150); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "nothing listens on port $1" >&2; return 1
}
rss_mb() { awk '/VmRSS/ {print int($2/1024)}' /proc/"$1"/status; }
starting=()
start() { # name port command...: a background process that will listen on port (wait_started waits for all)
  local name=$1 port=$2; shift 2
  "$@" >"$work/$name.log" 2>&1 & pids+=($!); eval "pid_${name//-/_}=$!"
  starting+=("$port")
}
wait_started() { for port in "${starting[@]}"; do wait_port "$port"; done; starting=(); }
upstream() { # name format port knobs...: a standalone emulator with its stats endpoint on port + 10
  local name=$1 format=$2 port=$3; shift 3
  start "$name" "$port" env DOTNET_gcServer=1 dotnet "$load" upstream --format "$format" --port "$port" --stats-port $((port + 10)) --max-seconds 1800 "$@"
}

# LLMux builds under test: "name port pid" each. start_host starts one more (a JIT dll or a native binary)
# on the shared config and records its start-up time and idle RSS; every scenario then measures it too.
hosts=()
start_host() { # name port command...
  local name=$1 port=$2; shift 2
  local t0; t0=$(date +%s%N)
  "$@" --config "$work/config.yaml" --port "$port" >"$work/$name.log" 2>&1 & local pid=$!; pids+=($pid)
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
  local startup_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep 0.5
  hosts+=("$name $port $pid")
  printf '{"kind":"host","name":"%s","startup_ms":%d,"idle_rss_mb":%d}\n' "$name" "$startup_ms" "$(rss_mb $pid)" >>"$meta"
}

upstream up openai $UP --chunks 64 --delay-ms 20
upstream up-anthropic anthropic $UP_ANTHROPIC --chunks 64
upstream up-gemini gemini $UP_GEMINI --chunks 64
upstream up-bedrock bedrock $UP_BEDROCK --chunks 64
upstream up-big openai $UP_BIG --chunks 4096 --content-bytes $slow_bytes
upstream up-responses responses $UP_RESPONSES --chunks 64
start yarp-responses $YARP_RESPONSES env DOTNET_gcServer=1 dotnet "$load" yarp --port $YARP_RESPONSES --target http://127.0.0.1:$UP_RESPONSES --max-seconds 1800
start yarp $YARP env DOTNET_gcServer=1 dotnet "$load" yarp --port $YARP --target http://127.0.0.1:$UP --max-seconds 1800
if [ "$node_tools" = 1 ]; then
  start up-node $UP_NODE env MOCK_CHUNKS=64 MOCK_CHUNK_DELAY_MS=20 node "$PEERS/mock/mock_openai.mjs" $UP_NODE
  start yarp-node $YARP_NODE env DOTNET_gcServer=1 dotnet "$load" yarp --port $YARP_NODE --target http://127.0.0.1:$UP_NODE --max-seconds 1800
fi
start yarp-big $YARP_BIG env DOTNET_gcServer=1 dotnet "$load" yarp --port $YARP_BIG --target http://127.0.0.1:$UP_BIG --max-seconds 1800
wait_started
start_host llmux $LLMUX dotnet "$host"
if [ "$aot" = 1 ]; then start_host llmux-aot $((B + 8)) "$work/aot/llmux"; fi
printf '{"kind":"yarp","idle_rss_mb":%d}\n' "$(rss_mb $pid_yarp)" >>"$meta"

run() { # scenario name url extra...: one measured row into results.jsonl
  local scenario=$1 name=$2 url=$3; shift 3
  dotnet "$load" run --name "$scenario:$name" --url "$url" --json "$results" "$@" >/dev/null \
    || { echo "scenario $scenario against $name failed (no requests moved)" >&2; exit 1; }
}
passthrough() { # scenario path extra...: direct, YARP and every LLMux host on the same OpenAI route
  local scenario=$1 path=$2; shift 2
  run "$scenario" direct "http://127.0.0.1:$UP$path" --model bench "$@"
  run "$scenario" yarp "http://127.0.0.1:$YARP$path" --model bench --watch-pid "$pid_yarp" "$@"
  for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; run "$scenario" "$hn" "http://127.0.0.1:$hp$path" --model bench --watch-pid "$hpid" "$@"; done
}
chat=/v1/chat/completions

phase() { echo "== [${SECONDS}s] $*"; }
phase "non-stream throughput and added latency"
for r in $(seq 1 $reps); do
  passthrough rps $chat --seconds $secs --warmup $warm --concurrency 32
  passthrough rate $chat --seconds $secs --warmup $warm --concurrency 64 --rate $rate
done
phase "concurrent streams"
for n in "${streams[@]}"; do passthrough "streams$n" $chat --seconds $secs --warmup $warm --concurrency "$n" --stream; done

if [ "$node_tools" = 1 ]; then
  # The conditions of ../shared/peers: wrk (one thread, load.sh), the Node mock upstream and stream_load.mjs, all on the
  # same 2 cores as the gateway. Targets are interleaved within each repeat so drift hits them alike.
  cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
  node_targets() { # "name port pid" per line: direct, YARP, every LLMux host
    echo "direct $UP_NODE $pid_up_node"; echo "yarp $YARP_NODE $pid_yarp_node"
    for h in "${hosts[@]}"; do echo "$h"; done
  }
  phase "Node tools on the same cores: load.sh (wrk), ${node_conc[*]} connections, $node_reps repeats"
  for c in "${node_conc[@]}"; do
    for r in $(seq 1 $node_reps); do
      while read -r tn tp tpid; do
        t0=$(cpu_ticks "$tpid")
        res=$(LOAD_TOOL=wrk bash "$PEERS/load.sh" "http://127.0.0.1:$tp$chat" bench-node "$c" "$node_secs" | awk '/^RESULT /')
        t1=$(cpu_ticks "$tpid")
        [ -n "$res" ] || { echo "load.sh against $tn printed no RESULT" >&2; exit 1; }
        python3 - "$tn" "$c" "$r" "$((t1 - t0))" "$(getconf CLK_TCK)" "$(rss_mb "$tpid")" "$res" >>"$meta" <<'PY'
import json, sys
name, c, rep, ticks, hz, rss, res = sys.argv[1:]
kv = dict(p.split("=", 1) for p in res.split()[1:])
num = lambda v: float(v) if v not in ("", None) else None
print(json.dumps({"kind": "node-rps", "name": name, "c": int(c), "rep": int(rep), "rps": num(kv.get("rps")), "p50_ms": num(kv.get("p50_ms")),
                  "p99_ms": num(kv.get("p99_ms")), "requests": int(kv.get("requests") or 0), "non2xx": int(kv.get("non2xx") or 0),
                  "errors": int(kv.get("errors") or 0), "cpu_s": int(ticks) / int(hz), "rss_mb": int(rss)}))
PY
      done < <(node_targets)
    done
  done
  phase "Node tools on the same cores: stream_load.mjs, $node_streams streams of 64 chunks 20 ms apart"
  while read -r tn tp tpid; do
    rss_max=0
    node "$PEERS/stream_load.mjs" "http://127.0.0.1:$tp$chat" bench-node "$node_streams" --chunks 64 --delay-ms 20 --json >"$work/streams-$tn.json" &
    sl=$!
    while kill -0 $sl 2>/dev/null; do r_now=$(rss_mb "$tpid"); [ "$r_now" -gt "$rss_max" ] && rss_max=$r_now; sleep 0.2; done
    wait $sl || true
    python3 - "$tn" "$rss_max" "$(rss_mb "$tpid")" "$work/streams-$tn.json" >>"$meta" <<'PY'
import json, sys
name, rss_max, rss_after, path = sys.argv[1:]
try:
    s = json.loads(open(path).read().strip().splitlines()[-1])
except Exception:
    s = {}
print(json.dumps({"kind": "node-streams", "name": name, "rss_max_mb": int(rss_max), "rss_after_mb": int(rss_after), "summary": s}))
PY
  done < <(node_targets)
fi

phase "governance: virtual key with rpm/tpm/max_parallel limits, a budget and spend rows (SQLite) vs the same host without"
# A second JIT host on the same config plus a master key and an SQLite file: every call is authenticated (key-cache hit),
# checked against its budgets and three rate limits, and writes a spend row through the background writer.
GOV=$((B + 9))
{ cat "$work/config.yaml"; printf 'general_settings:\n  master_key: sk-bench-master\n  database_path: %s\n' "$work/gov.db"; } >"$work/config-gov.yaml"
# SQLite only: the PostgreSQL/Redis of the CI tests (DATABASE_URL, REDIS_URL) are not for this host.
env -u REDIS_URL -u DATABASE_URL -u REDIS_HOST dotnet "$host" --config "$work/config-gov.yaml" --port $GOV >"$work/llmux-gov.log" 2>&1 & pid_gov=$!; pids+=($pid_gov)
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$GOV/" && break; sleep 0.05; done
gov_key=$(curl -s "http://127.0.0.1:$GOV/key/generate" -H 'Authorization: Bearer sk-bench-master' -H 'content-type: application/json' \
  -d '{"key_alias":"bench","rpm_limit":100000000,"tpm_limit":100000000000,"max_parallel_requests":100000,"max_budget":1000000}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
[ -n "$gov_key" ] || { echo "governance host: /key/generate failed" >&2; tail -20 "$work/llmux-gov.log" >&2; exit 1; }
printf '{"kind":"governance","host":"llmux-gov"}\n' >>"$meta"
# The governance host starts cold while the other one has served every scenario so far: warm it up (not recorded).
dotnet "$load" run --name warm --url "http://127.0.0.1:$GOV$chat" --model bench --seconds $((secs * 2)) --warmup 0 --concurrency 32 --key "$gov_key" >/dev/null || true
dotnet "$load" run --name warm --url "http://127.0.0.1:$GOV$chat" --model bench --seconds $secs --warmup 0 --concurrency 64 --stream --key "$gov_key" >/dev/null || true
for r in $(seq 1 $reps); do
  run governance llmux "http://127.0.0.1:$LLMUX$chat" --model bench --seconds $secs --warmup $warm --concurrency 32 --watch-pid "$(for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; [ "$hn" = llmux ] && echo "$hpid"; done)"
  run governance llmux-gov "http://127.0.0.1:$GOV$chat" --model bench --seconds $secs --warmup $warm --concurrency 32 --watch-pid "$pid_gov" --key "$gov_key"
  run governance-stream llmux "http://127.0.0.1:$LLMUX$chat" --model bench --seconds $secs --warmup $warm --concurrency 64 --stream --watch-pid "$(for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; [ "$hn" = llmux ] && echo "$hpid"; done)"
  run governance-stream llmux-gov "http://127.0.0.1:$GOV$chat" --model bench --seconds $secs --warmup $warm --concurrency 64 --stream --watch-pid "$pid_gov" --key "$gov_key"
done
gov_rss=$(rss_mb $pid_gov)
# SIGTERM flushes the spend writer; then every answered call has its row in the file.
kill -TERM $pid_gov 2>/dev/null || true; wait $pid_gov 2>/dev/null || true
gov_rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from \"LiteLLM_SpendLogs\"").fetchone()[0])' "$work/gov.db" 2>/dev/null || echo 0)
printf '{"kind":"governance-rows","spend_rows":%d,"rss_mb":%d}\n' "${gov_rows:-0}" "$gov_rss" >>"$meta"

phase "translating: OpenAI clients, Anthropic / Gemini / Bedrock upstreams"
translate() { # format port direct-path direct-stream-path
  local format=$1 port=$2 path=$3 spath=$4
  run "translate-$format" direct "http://127.0.0.1:$port$path" --format "$format" --model bench-model --seconds $tsecs --warmup $warm --concurrency 32
  run "translate-$format-stream" direct "http://127.0.0.1:$port$spath" --format "$format" --model bench-model --seconds $tsecs --warmup $warm --concurrency 32 --stream
  for h in "${hosts[@]}"; do
    read -r hn hp hpid <<<"$h"
    run "translate-$format" "$hn" "http://127.0.0.1:$hp$chat" --model "bench-$format" --seconds $tsecs --warmup $warm --concurrency 32 --watch-pid "$hpid"
    run "translate-$format-stream" "$hn" "http://127.0.0.1:$hp$chat" --model "bench-$format" --seconds $tsecs --warmup $warm --concurrency 32 --stream --watch-pid "$hpid"
  done
}
translate anthropic $UP_ANTHROPIC /v1/messages /v1/messages
translate gemini $UP_GEMINI "/v1beta/models/gemini-bench:generateContent" "/v1beta/models/gemini-bench:streamGenerateContent?alt=sse"
translate bedrock $UP_BEDROCK "/model/bench-model/converse" "/model/bench-model/converse-stream"

phase "/v1/responses: native passthrough vs a direct call vs YARP; the bridge vs chat completions on the same upstream"
for mode in "" "--stream"; do
  sfx=${mode:+-stream}
  # A bridged stream takes 64 chunks x 20 ms = 1.3 s upstream: a window shorter than that can end with none finished.
  rs=$tsecs; [ -n "$mode" ] && [ "$rs" -lt 3 ] && rs=3
  run "responses-native$sfx" direct "http://127.0.0.1:$UP_RESPONSES/v1/responses" --format responses --model bench --seconds $rs --warmup $warm --concurrency 32 $mode
  run "responses-native$sfx" yarp "http://127.0.0.1:$YARP_RESPONSES/v1/responses" --format responses --model bench --seconds $rs --warmup $warm --concurrency 32 --watch-pid "$pid_yarp_responses" $mode
  for h in "${hosts[@]}"; do
    read -r hn hp hpid <<<"$h"
    run "responses-native$sfx" "$hn" "http://127.0.0.1:$hp/v1/responses" --format responses --model bench-responses --seconds $rs --warmup $warm --concurrency 32 --watch-pid "$hpid" $mode
    # Bridged: the Responses API onto the OpenAI chat emulator, beside chat completions to the same deployment.
    run "responses-bridge$sfx" "$hn" "http://127.0.0.1:$hp/v1/responses" --format responses --model bench --seconds $rs --warmup $warm --concurrency 32 --watch-pid "$hpid" $mode
    run "responses-bridge$sfx" "$hn-chat" "http://127.0.0.1:$hp$chat" --model bench --seconds $rs --warmup $warm --concurrency 32 --watch-pid "$hpid" $mode
  done
done

phase "slow clients: $slow_n streams of $((slow_bytes / 1048576)) MB, readers pause ${slow_pause} ms after 50 chunks"
slow=(--stream --concurrency $slow_n --requests $slow_n --warmup 0 --seconds 120 --pause-after 50 --pause-ms $slow_pause --recv-buffer 65536 --upstream-stats "http://127.0.0.1:$((UP_BIG + 10))/_stats" --settle-ms 500)
printf '{"kind":"slow","bytes_per_stream":%d,"pause_ms":%d}\n' "$slow_bytes" "$slow_pause" >>"$meta"
run slow direct "http://127.0.0.1:$UP_BIG$chat" --model bench "${slow[@]}"
run slow yarp "http://127.0.0.1:$YARP_BIG$chat" --model bench --watch-pid "$pid_yarp_big" "${slow[@]}"
for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; run slow "$hn" "http://127.0.0.1:$hp$chat" --model bench-big --watch-pid "$hpid" "${slow[@]}"; done

phase "client disconnects: $abort_n streams aborted after 8 chunks"
passthrough disconnect $chat --stream --concurrency $abort_conc --requests $abort_n --warmup 0 --seconds 120 --abort-after 8 \
  --upstream-stats "http://127.0.0.1:$STATS/_stats" --conns-port $UP --settle-ms $settle

phase "wrk cross-check (non-stream, 32 connections)"
if ! command -v wrk >/dev/null 2>&1 && [ "${CI:-}" = true ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1) || true
fi
if command -v wrk >/dev/null 2>&1; then
  cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench","stream":false,"messages":[{"role":"user","content":"Say something about load testing."}]}'
LUA
  wrk_row() { # name port
    local o; o=$(wrk -t2 -c32 -d${secs}s -s "$work/post.lua" "http://127.0.0.1:$2$chat")
    local rps non2xx; rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$o"); non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$o")
    [ -n "$rps" ] || { echo "wrk against $1 printed no rate" >&2; exit 1; }
    printf '{"kind":"wrk","name":"%s","rps":%s,"non2xx":%s}\n' "$1" "$rps" "${non2xx:-0}" >>"$meta"
  }
  wrk_row direct $UP; wrk_row yarp $YARP
  for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; wrk_row "$hn" "$hp"; done
else
  printf '{"kind":"wrk-missing"}\n' >>"$meta"
  echo "wrk not installed: cross-check skipped"
fi
for h in "${hosts[@]}"; do read -r hn hp hpid <<<"$h"; printf '{"kind":"host-end","name":"%s","rss_mb":%d}\n' "$hn" "$(rss_mb $hpid)" >>"$meta"; done

phase "response cache: hit throughput, memory and Redis, vs a direct call (bench/cache.sh)"
# Full runs only (or --cache): the quick run inside CI keeps its time budget.
if [ "$quick" = 0 ] || [ "$cache" = 1 ]; then
  BENCH_NO_BUILD=1 BENCH_PORT_BASE=$((B + 50)) bash bench/cache.sh $([ "$quick" = 1 ] && echo --quick) --out "$(dirname "$out")/benchmarks-cache.md" \
    || { echo "the cache bench failed" >&2; exit 1; }
else
  echo "cache bench skipped (--quick runs it only with --cache)"
fi

phase "micro-benchmarks (BenchmarkDotNet, short job)"
if [ "$micro" = 1 ]; then
  rm -rf "$work/bdn"
  if dotnet run -c Release --project bench/LLMux.Benchmarks -- --filter '*' --job short --exporters github --artifacts "$work/bdn" >"$work/bdn.log" 2>&1 \
     && dotnet run -c Release --project bench/LLMux.Benchmarks -- cputime >"$work/cputime.txt" 2>>"$work/bdn.log"; then
    dotnet run -c Release --project bench/LLMux.Benchmarks -- spend-writer 200000 >"$work/spend-writer.txt" 2>>"$work/bdn.log" \
      || echo "the spend-writer run failed (see the BenchmarkDotNet log)" >"$work/spend-writer.txt"
    micro_out="$(dirname "$out")/benchmarks-micro.md"
    {
      echo "# Micro-benchmarks (BenchmarkDotNet)"
      echo
      echo "Written by \`bench/run.sh\` ($(date -u '+%Y-%m-%d %H:%M') UTC, load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores shared with nothing else of the harness)."
      echo "Job: \`--job short\` (3 iterations): compare the ratio to each class's baseline and the allocations, not absolute times."
      echo "Command: \`dotnet run -c Release --project bench/LLMux.Benchmarks -- --filter '*' --job short\`. Analysis: [benchmarks.md](benchmarks.md)."
      echo
      echo "## Decoders: CPU time against the reference decoders (\`-- cputime\`)"
      echo
      cat "$work/cputime.txt"
      echo
      echo "## Spend writer: rows a second against the store alone, and its memory bound (\`-- spend-writer\`)"
      echo
      cat "$work/spend-writer.txt"
      for f in "$work"/bdn/results/*-report-github.md; do
        echo
        echo "## $(basename "$f" -report-github.md | sed 's/^LLMux\.Benchmarks\.//')"
        echo
        sed -n '/^|/,$p' "$f"
      done
    } >"$micro_out"
    echo "micro-benchmarks written to $micro_out"
  else
    tail -20 "$work/bdn.log" >&2; echo "micro-benchmarks failed" >&2; exit 1
  fi
else
  echo "micro-benchmarks skipped (--quick runs them only with --micro)"
fi

phase "audio: 25 MB transcription and speech time to first byte (bench/audio.sh)"
BENCH_AUDIO_PORT=$((B + 70)) bench/audio.sh --reps "$([ "$quick" = 1 ] && echo 2 || echo 5)" --host "$host" >"$work/audio.md"

phase "report"
if [ -n "${BENCH_RAW_DIR:-}" ]; then mkdir -p "$BENCH_RAW_DIR" && cp "$results" "$meta" "$BENCH_RAW_DIR/"; fi
python3 bench/report.py --results "$results" --meta "$meta" --out "$out" $([ "$quick" = 1 ] && echo --quick)
{ echo; cat "$work/audio.md"; } >>"$out"
