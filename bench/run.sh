#!/usr/bin/env bash
# Load harness: LLMux vs a direct call to the upstream emulator vs a bare YARP forwarder, same run, same machine.
# Usage: bench/run.sh [--quick] [--out docs/benchmarks-load.md]
# Everything binds to 127.0.0.1, every run is bounded in time, and every process is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; out=docs/benchmarks-load.md
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then secs=3; warm=1; reps=1; streams=(64); rate=200; else secs=10; warm=3; reps=3; streams=(256 1024); rate=500; fi

UP=${BENCH_PORT_BASE:-18090}; YARP=$((UP + 1)); LLMUX=$((UP + 2))
for port in $UP $YARP $LLMUX; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is already in use; set BENCH_PORT_BASE" >&2; exit 1; fi
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for p in src/Host bench/LLMux.Load; do dotnet build -c Release -v q -nologo "$p" >/dev/null || { echo "build of $p failed" >&2; exit 1; }; done
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
host=src/Host/bin/Release/net10.0/llmux.dll

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

DOTNET_gcServer=1 dotnet "$load" upstream --port $UP --chunks 64 --delay-ms 20 --max-seconds 1800 >"$work/up.log" 2>&1 & pids+=($!)
DOTNET_gcServer=1 dotnet "$load" yarp --port $YARP --target http://127.0.0.1:$UP --max-seconds 1800 >"$work/yarp.log" 2>&1 & pids+=($!)
dotnet "$host" --config "$work/config.yaml" --port $LLMUX >"$work/llmux.log" 2>&1 & llmux_pid=$!; pids+=($llmux_pid)

for port in $UP $YARP $LLMUX; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done
rss() { awk '/VmRSS/ {print int($2/1024)}' /proc/"$1"/status; }
idle_rss=$(rss $llmux_pid)

results="$work/results.jsonl"
targets=("direct http://127.0.0.1:$UP/v1/chat/completions" "yarp http://127.0.0.1:$YARP/v1/chat/completions" "llmux http://127.0.0.1:$LLMUX/v1/chat/completions")

run() { # scenario name url extra...
  local scenario=$1 name=$2 url=$3; shift 3
  dotnet "$load" run --name "$scenario:$name" --url "$url" --model bench --seconds $secs --warmup $warm --json "$results" "$@" >/dev/null
}

for r in $(seq 1 $reps); do
  for t in "${targets[@]}"; do set -- $t; run rps "$1" "$2" --concurrency 32; done
  for t in "${targets[@]}"; do set -- $t; run rate "$1" "$2" --concurrency 64 --rate $rate; done
done
for n in "${streams[@]}"; do
  for t in "${targets[@]}"; do set -- $t; run "streams$n" "$1" "$2" --concurrency "$n" --stream; done
done
load_rss=$(rss $llmux_pid)

python3 - "$results" "$out" "$idle_rss" "$load_rss" "$quick" <<'PY'
import json, sys, statistics, datetime, platform, subprocess, os
rows = [json.loads(l) for l in open(sys.argv[1])]
out, idle, loaded, quick = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
groups = {}
for r in rows:
    scen, name = r["Target"].split(":")
    groups.setdefault(scen, {}).setdefault(name, []).append(r)
def med(rs, k):
    v = [x[k] for x in rs if x[k] is not None]
    return statistics.median(v) if v else None
def spread(rs, k):
    v = [x[k] for x in rs]
    return (max(v) - min(v)) / statistics.median(v) * 100 if len(v) > 1 and statistics.median(v) else 0
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = ["# Load benchmarks: LLMux vs direct vs YARP", "",
         f"Machine: {os.cpu_count()} cores, {cpu}; date {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; mode {'quick' if quick else 'full'}.",
         "Command: `bench/run.sh" + (" --quick" if quick else "") + "`. Upstream: the OpenAI emulator (bench/LLMux.Load upstream), 64 chunks 20 ms apart for streams.",
         "Load generator, upstream, YARP and LLMux share the same 2 cores, so absolute figures are low; compare ratios.", ""]
if "rps" in groups:
    g = groups["rps"]; d = med(g["direct"], "Rps"); y = med(g["yarp"], "Rps"); l = med(g["llmux"], "Rps")
    lines += ["## Non-stream throughput, closed loop, 32 connections", "",
              "| target | RPS (median) | spread | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for n in ("direct", "yarp", "llmux"):
        rs = g[n]
        lines.append(f"| {n} | {med(rs,'Rps'):,.0f} | {spread(rs,'Rps'):.0f} % | {med(rs,'P50Us')/1000:.2f} | {med(rs,'P99Us')/1000:.2f} | {sum(x['Errors'] for x in rs)} |")
    lines += ["", f"LLMux / YARP throughput: **{l/y:.2f}×** (target ≥ 0.9×); LLMux / direct: {l/d:.2f}×.", ""]
    ov50 = med(g["llmux"], "OverheadP50Us"); ov99 = med(g["llmux"], "OverheadP99Us")
    lines += [f"Self-measured overhead (`x-llmux-overhead-us`, passthrough): p50 **{ov50} µs**, p99 {ov99} µs (target p50 ≤ 10 µs).", ""]
if "rate" in groups:
    g = groups["rate"]
    dp50, dp99 = med(g["direct"], "P50Us"), med(g["direct"], "P99Us")
    lines += ["## Added latency at a fixed rate (open loop)", "", "| target | p50 ms | p99 ms | added p50 µs | added p99 µs |", "|---|---|---|---|---|"]
    for n in ("direct", "yarp", "llmux"):
        p50, p99 = med(g[n], "P50Us"), med(g[n], "P99Us")
        lines.append(f"| {n} | {p50/1000:.2f} | {p99/1000:.2f} | {p50-dp50:.0f} | {p99-dp99:.0f} |")
    ya = (med(g["yarp"], "P50Us") - dp50, med(g["yarp"], "P99Us") - dp99); la = (med(g["llmux"], "P50Us") - dp50, med(g["llmux"], "P99Us") - dp99)
    lines += ["", f"Added latency LLMux vs YARP: p50 {la[0]:.0f} µs vs {ya[0]:.0f} µs, p99 {la[1]:.0f} µs vs {ya[1]:.0f} µs.", ""]
for scen in sorted(k for k in groups if k.startswith("streams")):
    g = groups[scen]
    lines += [f"## {scen[7:]} concurrent streams (64 chunks, 20 ms apart)", "", "| target | streams done | stalled (gap > 250 ms) | chunk gap p50 ms | p99 ms | max ms | errors |", "|---|---|---|---|---|---|---|"]
    for n in ("direct", "yarp", "llmux"):
        r = g[n][0]
        lines.append(f"| {n} | {r['Streams']} | {r['StalledStreams']} | {r['GapP50Us']/1000:.1f} | {r['GapP99Us']/1000:.1f} | {r['GapMaxUs']/1000:.1f} | {r['Errors']} |")
    lines.append("")
lines += ["## LLMux process", "", f"RSS idle: {idle} MB; after the runs above: {loaded} MB.", ""]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
