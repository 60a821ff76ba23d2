#!/usr/bin/env bash
# Smoke test of the Native AOT `llmux`: publishes it (needs clang), runs it on loopback with the built-in mock
# and with a YAML config over the upstream emulators, and checks every endpoint family with curl.
# Usage: bench/aot-smoke.sh [--bin PATH_TO_AOT_LLMUX] [--no-translating] [--compare [--jit-bin PATH_TO_JIT_LLMUX]]
#   --compare also publishes the JIT host and prints start-up time (median of 5) and idle RSS of both.
# Ports 19150-19153 (override the base with AOT_SMOKE_PORT_BASE); every process it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=""; translating=1; compare=0; jit_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift ;;
    --compare) compare=1 ;;
    --jit-bin) jit_bin="$2"; shift ;;
    --no-translating) translating=0 ;;
    *) echo "aot-smoke: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$bin" ] && ! command -v clang >/dev/null 2>&1; then
  echo "aot-smoke: SKIP (clang not found; Native AOT publishing needs it)"
  exit 0
fi

MOCK=${AOT_SMOKE_PORT_BASE:-19150}; UP=$((MOCK + 1)); GW=$((MOCK + 2)); CMP=$((MOCK + 3))
for port in $MOCK $UP $GW $CMP; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "aot-smoke: port $port is already in use; set AOT_SMOKE_PORT_BASE" >&2; exit 1; fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  exec 9>&- 2>/dev/null || true  # EOF on the emulators' stdin stops them (`dotnet run` does not pass a kill on)
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$bin" ]; then
  echo "aot-smoke: publishing Native AOT llmux into $work/out"
  start=$(date +%s)
  dotnet publish src/Host -c Release -r linux-x64 -p:PublishAot=true -o "$work/out" >"$work/publish.log" 2>&1 \
    || { tail -40 "$work/publish.log"; echo "aot-smoke: FAIL publish"; exit 1; }
  if grep -Eq "warning IL[23][0-9]{3}" "$work/publish.log"; then grep -E "warning IL[23][0-9]{3}" "$work/publish.log"; echo "aot-smoke: FAIL trim/AOT warnings"; exit 1; fi
  echo "aot-smoke: published in $(( $(date +%s) - start )) s, $(du -h "$work/out/llmux" | cut -f1)"
  bin="$work/out/llmux"
fi
[ -x "$bin" ] || { echo "aot-smoke: $bin is not an executable" >&2; exit 1; }
if [ -f "$bin.dll" ]; then echo "aot-smoke: $bin does not look like a native binary" >&2; exit 1; fi

failures=0
pass() { echo "  ok   $1"; }
fail() { echo "  FAIL $1"; failures=$((failures + 1)); }

# Waits until GET $1 answers 200 (10 s at most).
wait_ready() {
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# post NAME URL BODY EXPECTED_STATUS [EXTRA_CURL_ARGS...]: the body lands in $work/NAME.out.
post() {
  local name=$1 url=$2 body=$3 want=$4; shift 4
  local got
  got=$(curl -s -o "$work/$name.out" -w '%{http_code}' -H 'content-type: application/json' "$@" --data-binary "$body" "$url" || echo 000)
  if [ "$got" = "$want" ]; then return 0; fi
  echo "       $name: HTTP $got, expected $want: $(head -c 300 "$work/$name.out" 2>/dev/null)"
  return 1
}

is_json() { [ -s "$1" ] && jq -e "$2" "$1" >/dev/null 2>&1; }

# A stream passes when every data line but the last is JSON, the last is [DONE], and one chunk carries usage.
stream_ok() {
  local f=$1
  [ "$(grep '^data: ' "$f" | tail -1)" = "data: [DONE]" ] || return 1
  grep '^data: ' "$f" | grep -v '^data: \[DONE\]$' | sed 's/^data: //' | jq -e . >/dev/null 2>&1 || return 1
  grep '^data: ' "$f" | grep -v '^data: \[DONE\]$' | sed 's/^data: //' | jq -se 'map(select(.usage != null and .usage.total_tokens > 0)) | length == 1' >/dev/null
}

# chat_checks NAME BASE MODEL: plain and streamed chat completions against one model.
chat_checks() {
  local name=$1 base=$2 model=$3
  if post "$name-chat" "$base/v1/chat/completions" "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" 200 \
    && is_json "$work/$name-chat.out" '.object == "chat.completion" and (.choices[0].message.content | length > 0) and .usage.total_tokens > 0'; then
    pass "$name: chat completion"; else fail "$name: chat completion"; fi
  if post "$name-stream" "$base/v1/chat/completions" "{\"model\":\"$model\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" 200 -N \
    && stream_ok "$work/$name-stream.out"; then
    pass "$name: streamed chat completion with usage, ends in [DONE]"; else fail "$name: streamed chat completion"; fi
}

echo "aot-smoke: binary $bin"

echo "aot-smoke: CLI"
if "$bin" capabilities --json >"$work/caps.json" 2>"$work/caps.err" && is_json "$work/caps.json" '.object == "list" and (.data | length > 0) and (.data | map(.provider) | index("openai") != null)'; then
  pass "llmux capabilities --json parses"; else fail "llmux capabilities --json ($(head -c 200 "$work/caps.err"))"; fi
if "$bin" --help | grep -q "llmux"; then pass "llmux --help"; else fail "llmux --help"; fi

echo "aot-smoke: built-in mock on :$MOCK (--metrics)"
"$bin" --port "$MOCK" --metrics >"$work/mock.log" 2>&1 &
pids+=($!)
B="http://127.0.0.1:$MOCK"
if wait_ready "$B/v1/models"; then
  if curl -s "$B/v1/models" -o "$work/models.out" && is_json "$work/models.out" '.object == "list" and (.data | map(.id) | index("mock-gpt") != null)'; then
    pass "mock: /v1/models"; else fail "mock: /v1/models"; fi
  chat_checks mock "$B" mock-gpt
  # LiteLLM answers an unknown model with a 400 invalid_request_error; so does LLMux (tests/EndToEnd/ErrorTests).
  if post unknown "$B/v1/chat/completions" '{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}' 400 \
    && is_json "$work/unknown.out" '.error.code == "model_not_found" and (.error.message | contains("no-such-model"))'; then
    pass "mock: unknown model is a 400 model_not_found OpenAI error"; else fail "mock: unknown model"; fi
  if post malformed "$B/v1/chat/completions" '{"model":"mock-gpt",' 400 && is_json "$work/malformed.out" '.error.type == "invalid_request_error"'; then
    pass "mock: malformed JSON is a 400 OpenAI error"; else fail "mock: malformed JSON"; fi
  if post messages "$B/v1/messages" '{"model":"mock-gpt","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}' 200 \
    && is_json "$work/messages.out" '.type == "message" and .content[0].type == "text" and .usage.output_tokens > 0'; then
    pass "mock: /v1/messages"; else fail "mock: /v1/messages"; fi
  if post messages-stream "$B/v1/messages" '{"model":"mock-gpt","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}' 200 -N \
    && grep -q '^event: message_stop' "$work/messages-stream.out"; then
    pass "mock: streamed /v1/messages ends in message_stop"; else fail "mock: streamed /v1/messages"; fi
  if post embed "$B/v1/embeddings" '{"model":"mock-embed","input":"hi"}' 200 && is_json "$work/embed.out" '.data[0].embedding | length > 0'; then
    pass "mock: /v1/embeddings"; else fail "mock: /v1/embeddings"; fi
  if curl -s "$B/metrics" -o "$work/metrics.out" && grep -q '^# TYPE ' "$work/metrics.out"; then
    pass "mock: /metrics serves Prometheus text"; else fail "mock: /metrics"; fi
else
  fail "mock: llmux did not answer /v1/models ($(tail -5 "$work/mock.log"))"
fi

echo "aot-smoke: YAML config over the upstream emulators on :$GW"
if [ ! -f bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll ]; then
  dotnet build bench/LLMux.Load -c Release >"$work/load-build.log" 2>&1 || { tail -20 "$work/load-build.log"; fail "build bench/LLMux.Load"; }
fi
dotnet bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll upstream --port "$UP" --chunks 8 --max-seconds 300 >"$work/upstream.log" 2>&1 &
pids+=($!)
cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: gpt-up
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-smoke
YAML
if [ "$translating" = 1 ]; then
  # The tests' Anthropic/Gemini/Bedrock/Cohere emulators (OS-assigned loopback ports); stdin keeps them alive.
  mkfifo "$work/emu.in"
  dotnet run bench/aot-smoke-emulators.cs -- --max-seconds 300 <"$work/emu.in" >"$work/emu.out" 2>&1 &
  pids+=($!)
  exec 9>"$work/emu.in"
  for _ in $(seq 1 1200); do grep -q '^# ready' "$work/emu.out" && break; kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.1; done
  if grep -q '^# ready' "$work/emu.out"; then
    grep -v '^# ready' "$work/emu.out" | grep '^  ' >>"$work/config.yaml"
  else
    fail "translating emulators did not start ($(tail -5 "$work/emu.out"))"; translating=0
  fi
fi
cat >>"$work/config.yaml" <<YAML
router_settings:
  num_retries: 0
YAML
wait_ready "http://127.0.0.1:$UP/v1/models" || true
"$bin" --config "$work/config.yaml" --port "$GW" >"$work/gw.log" 2>&1 &
pids+=($!)
G="http://127.0.0.1:$GW"
if wait_ready "$G/v1/models"; then
  if curl -s "$G/v1/models" -o "$work/gw-models.out" && is_json "$work/gw-models.out" '.data | map(.id) | index("gpt-up") != null'; then
    pass "config: /v1/models lists the YAML models"; else fail "config: /v1/models"; fi
  chat_checks openai "$G" gpt-up
  # The cost comes from the embedded LiteLLM price table: proves resources survive the AOT publish.
  if post cost "$G/v1/chat/completions" '{"model":"gpt-up","messages":[{"role":"user","content":"hi"}]}' 200 -D "$work/cost.hdr" \
    && grep -Eiq '^x-llmux-response-cost: 0?\.[0-9]*[1-9]' "$work/cost.hdr"; then
    pass "openai: x-llmux-response-cost from the embedded price table"; else fail "openai: cost header ($(grep -i cost "$work/cost.hdr"))"; fi
  if [ "$translating" = 1 ]; then
    for m in claude gemini bedrock-converse cohere; do chat_checks "$m" "$G" "$m"; done
    if post gw-messages "$G/v1/messages" '{"model":"gemini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}' 200 \
      && is_json "$work/gw-messages.out" '.type == "message" and (.content[0].text | length > 0)'; then
      pass "gemini: /v1/messages"; else fail "gemini: /v1/messages"; fi
  fi
else
  fail "config: llmux did not answer /v1/models ($(tail -5 "$work/gw.log"))"
fi

if [ "$failures" -gt 0 ]; then echo "aot-smoke: FAIL ($failures checks failed)"; exit 1; fi
echo "aot-smoke: all checks passed"
[ "$compare" = 1 ] || exit 0

# One start of $1 on its own port: sets start_ms (launch to the first 200 from /v1/models) and rss_kib
# (resident set 1 s after one chat completion).
start_once() {
  local t0 t1 pid
  t0=$(date +%s%N)
  "$1" --port "$CMP" >"$work/compare.log" 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 5000); do curl -sf -o /dev/null "http://127.0.0.1:$CMP/v1/models" && break; sleep 0.002; done
  t1=$(date +%s%N)
  if ! kill -0 "$pid" 2>/dev/null; then echo "aot-smoke: FAIL $1 exited: $(tail -3 "$work/compare.log")"; exit 1; fi
  post compare-chat "http://127.0.0.1:$CMP/v1/chat/completions" '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}' 200 || fail "compare: chat on $1"
  sleep 1
  rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  start_ms=$(( (t1 - t0) / 1000000 ))
}

if [ -z "$jit_bin" ]; then
  echo "aot-smoke: publishing the JIT llmux into $work/jit"
  dotnet publish src/Host -c Release -o "$work/jit" >"$work/publish-jit.log" 2>&1 || { tail -20 "$work/publish-jit.log"; echo "aot-smoke: FAIL JIT publish"; exit 1; }
  jit_bin="$work/jit/llmux"
fi
echo "aot-smoke: AOT vs JIT, built-in mock on :$CMP, 5 starts each"
printf '  %-4s %18s %22s %12s\n' "" "start-up (median)" "idle RSS (median)" "on disk"
for kind in AOT JIT; do
  if [ "$kind" = AOT ]; then b=$bin; size=$(du -h "$bin" | cut -f1); else b=$jit_bin; size="$(du -sh "$(dirname "$jit_bin")" | cut -f1) + runtime"; fi
  starts=(); rsss=()
  for _ in 1 2 3 4 5; do start_once "$b"; starts+=("$start_ms"); rsss+=("$rss_kib"); done
  med_start=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)
  med_rss=$(printf '%s\n' "${rsss[@]}" | sort -n | sed -n 3p)
  printf '  %-4s %15s ms %18s MiB %12s   (starts: %s ms)\n' "$kind" "$med_start" "$((med_rss / 1024))" "$size" "${starts[*]}"
done

# Throughput: the AOT gateway from the checks above and a JIT one on the same config, to the OpenAI emulator.
if kill -0 "${pids[0]}" 2>/dev/null && curl -sf -o /dev/null "$G/v1/models"; then
  echo "aot-smoke: throughput to the OpenAI emulator, 32 connections, 5 s after a 3 s warm-up"
  "$jit_bin" --config "$work/config.yaml" --port "$CMP" >"$work/jit-gw.log" 2>&1 &
  pids+=($!)
  if wait_ready "http://127.0.0.1:$CMP/v1/models"; then
    for kind in AOT JIT; do
      if [ "$kind" = AOT ]; then port=$GW; else port=$CMP; fi
      for mode in "" --stream; do
        if dotnet bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll run --name "$kind" --url "http://127.0.0.1:$port/v1/chat/completions" \
            --model gpt-up --concurrency 32 --seconds 5 --warmup 3 $mode >"$work/run.out" 2>&1; then
          printf '  %-4s %-9s %s\n' "$kind" "${mode:---plain}" "$(tail -1 "$work/run.out" | jq -r '"\(.Rps | floor) req/s, p50 \(.P50Us / 1000) ms, p99 \(.P99Us / 1000) ms, \(.Errors) errors"' 2>/dev/null || echo "n/a")"
        else
          fail "compare: load run against $kind$mode ($(tail -2 "$work/run.out"))"
        fi
      done
    done
  else
    fail "compare: JIT gateway did not start ($(tail -3 "$work/jit-gw.log"))"
  fi
fi
if [ "$failures" -gt 0 ]; then echo "aot-smoke: FAIL ($failures checks failed)"; exit 1; fi
