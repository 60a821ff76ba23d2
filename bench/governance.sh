#!/usr/bin/env bash
# Governance CPU per request: the same JIT host and config with governance off, on (SQLite, a spend row per call), on with
# general_settings.disable_spend_logs, and on with PostgreSQL + Redis (the several-replica set-up), interleaved in each
# repeat so that drift hits them alike, with the upstream emulator called directly as the floor.
# Usage: bench/governance.sh [--quick] [--no-pg] [--out FILE]   Target (issue 18): no more than 10 % more CPU per request on.
#   Every call of an "on" target carries a virtual key with rpm, tpm and max_parallel_requests limits and a budget.
# BENCH_PORT_BASE (default 18290): first of 12 loopback ports. Everything binds to 127.0.0.1, runs are bounded in time, and
# every process this script starts (hosts, emulator, PostgreSQL, Redis) is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; out=""; pg=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-pg) pg=0 ;;
    --out) out="$2"; shift ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then secs=3; warm=1; reps=1; else secs=8; warm=2; reps=3; fi

B=${BENCH_PORT_BASE:-18290}
UP=$B; OFF=$((B + 1)); ON=$((B + 2)); NOLOG=$((B + 3)); PGR=$((B + 4)); STATS=$((B + 10))
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$pg" = 1 ] && llmux_services_stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for p in src/Host bench/LLMux.Load; do dotnet build -c Release -v q -nologo "$p" >/dev/null || { echo "build of $p failed" >&2; exit 1; }; done
load=bench/LLMux.Load/bin/Release/net10.0/llmux-load.dll
host=src/Host/bin/Release/net10.0/llmux.dll
results="$work/results.jsonl"; : >"$results"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$pg" = 1 ]; then
  # shellcheck source=../.ci/services.sh
  LLMUX_SERVICES_NO_START=1 source .ci/services.sh
  llmux_services_start >/dev/null || { echo "PostgreSQL/Redis could not be started: leaving that target out" >&2; pg=0; }
fi

env DOTNET_gcServer=1 dotnet "$load" upstream --format openai --port $UP --stats-port $STATS --max-seconds 1800 >"$work/up.log" 2>&1 & pids+=($!)
cat >"$work/base.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/gpt-4o-mini   # priced: every governed call adds real spend
      api_base: http://127.0.0.1:$UP/v1
      api_key: sk-bench
YAML
gen() { printf 'general_settings:\n  master_key: sk-bench-master\n'; printf '  %s\n' "$@"; }
cp "$work/base.yaml" "$work/off.yaml"
{ cat "$work/base.yaml"; gen "database_path: $work/on.db"; } >"$work/on.yaml"
{ cat "$work/base.yaml"; gen "database_path: $work/nolog.db" "disable_spend_logs: true"; } >"$work/nolog.yaml"
targets=("off $OFF" "on $ON" "nolog $NOLOG")
if [ "$pg" = 1 ]; then
  { cat "$work/base.yaml"; gen "database_url: \"$LLMUX_TEST_POSTGRES\"" "redis_namespace: bench-$$"; } >"$work/pg-redis.yaml"
  targets+=("pg-redis $PGR")
fi
for t in "${targets[@]}"; do
  read -r name port <<<"$t"
  if [ "$name" = pg-redis ]; then
    dotnet "$host" --config "$work/$name.yaml" --port "$port" >"$work/$name.log" 2>&1 & pids+=($!)
  else
    # SQLite only: no shared PostgreSQL or Redis from the environment for these.
    env -u REDIS_URL -u DATABASE_URL -u REDIS_HOST dotnet "$host" --config "$work/$name.yaml" --port "$port" >"$work/$name.log" 2>&1 & pids+=($!)
  fi
  eval "pid_${name//-/_}=$!"
done
for t in "${targets[@]}"; do
  read -r name port <<<"$t"
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  curl -s -o /dev/null "http://127.0.0.1:$port/" || { echo "$name did not start" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
done
keyof() { # port: a virtual key with three limits and a budget (empty for the host without governance)
  [ "$1" = "$OFF" ] && return 0
  curl -s "http://127.0.0.1:$1/key/generate" -H 'Authorization: Bearer sk-bench-master' -H 'content-type: application/json' \
    -d '{"key_alias":"bench","rpm_limit":100000000,"tpm_limit":100000000000,"max_parallel_requests":100000,"max_budget":1000000}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'
}
declare -A keys
for t in "${targets[@]}"; do read -r name port <<<"$t"; keys[$name]=$(keyof "$port"); done

run() { # scenario name port pid extra...
  local scenario=$1 name=$2 port=$3 pid=$4; shift 4
  local key=${keys[$name]:-}
  dotnet "$load" run --name "$scenario:$name" --url "http://127.0.0.1:$port/v1/chat/completions" --model bench --json "$results" \
    --watch-pid "$pid" ${key:+--key "$key"} "$@" >/dev/null || { echo "$scenario against $name failed" >&2; exit 1; }
}
# Warm every host (not recorded).
for t in "${targets[@]}"; do
  read -r name port <<<"$t"; pidvar="pid_${name//-/_}"
  dotnet "$load" run --name warm --url "http://127.0.0.1:$port/v1/chat/completions" --model bench --seconds $((secs * 2)) --warmup 0 --concurrency 32 ${keys[$name]:+--key "${keys[$name]}"} >/dev/null || true
done
for r in $(seq 1 $reps); do
  for t in "${targets[@]}"; do
    read -r name port <<<"$t"; pidvar="pid_${name//-/_}"
    run governance "$name" "$port" "${!pidvar}" --seconds $secs --warmup $warm --concurrency 32
  done
  for t in "${targets[@]}"; do
    read -r name port <<<"$t"; pidvar="pid_${name//-/_}"
    run governance-stream "$name" "$port" "${!pidvar}" --seconds $secs --warmup $warm --concurrency 64 --stream
  done
done
# SIGTERM flushes the spend writers; then every answered call of "on" has its row.
kill -TERM "$pid_on" 2>/dev/null || true; wait "$pid_on" 2>/dev/null || true
rows_on=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from \"LiteLLM_SpendLogs\"").fetchone()[0])' "$work/on.db" 2>/dev/null || echo 0)

python3 - "$results" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$rows_on" "$quick" >"$work/report.md" <<'PY'
import json, sys, statistics
path, load0, load1, rows_on, quick = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {}
for r in rows:
    sc, name = r["Target"].split(":", 1)
    by.setdefault(sc, {}).setdefault(name, []).append(r)
def cpu(r):
    done = r["Requests"] + r.get("Aborted", 0)
    return (r.get("Process") or {}).get("CpuSeconds", 0) / done * 1e6 if done else float("nan")
print("# Governance CPU per request (bench/governance.sh)\n")
print(f"Load average at start {load0}, at end {load1}; {'quick' if quick == '1' else 'full'} run. Each repeat runs every target in turn; "
      "the ratio is the median over repeats of (CPU per request on) / (CPU per request off) within the same repeat. "
      "`on`: SQLite, a spend row per call; `nolog`: SQLite with `disable_spend_logs: true`; `pg-redis`: PostgreSQL + Redis "
      "(the database's own CPU is in its server process, not counted). Target: ≤ 1.10×.\n")
print("| scenario | target | RPS (median) | p50 ms | p99 ms | errors | CPU µs / request (median) | ratio to off (median of repeats) | repeats |")
print("|---|---|---|---|---|---|---|---|---|")
for sc, g in by.items():
    off = g.get("off", [])
    for name, rs in g.items():
        ratios = [cpu(a) / cpu(b) for a, b in zip(rs, off)] if name != "off" else []
        med = statistics.median(ratios) if ratios else None
        print(f"| {sc} | {name} | {statistics.median(r['Rps'] for r in rs):,.0f} | {statistics.median(r['P50Us'] for r in rs)/1000:.2f} | "
              f"{statistics.median(r['P99Us'] for r in rs)/1000:.2f} | {sum(r['Errors'] for r in rs)} | {statistics.median(cpu(r) for r in rs):.1f} | "
              f"{'' if med is None else f'{med:.2f}×'} | {', '.join(f'{x:.2f}' for x in ratios)} |")
print(f"\nSpend rows in the `on` host's SQLite file after SIGTERM: {int(rows_on):,}.")
PY
cat "$work/report.md"
[ -n "$out" ] && cp "$work/report.md" "$out"
exit 0
