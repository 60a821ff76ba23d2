#!/usr/bin/env bash
# Audio through the host against a direct call, same run, same machine (issue 17's bench):
#   transcription of a 25 MB WAV: wall time through LLMux vs a direct upload to the upstream, and the host's peak
#   resident memory during the upload above its resident memory before it (VmHWM after clear_refs), which must stay
#   well under the file size (the upload is spooled to disk and streamed upstream, never held whole);
#   speech: time to first byte through LLMux vs direct (the upstream pauses 20 ms, then streams 32 × 8 KiB).
# Usage: bench/audio.sh [--reps N] [--host DLL]   (prints a markdown section on stdout)
# Everything binds to 127.0.0.1 (ports BENCH_AUDIO_PORT, default 18750, and +1); every process is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=5; host=src/Host/bin/Release/net10.0/llmux.dll
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift ;;
    --host) host=$2; shift ;;
  esac
  shift
done
[ -f "$host" ] || dotnet build -c Release -v q -nologo src/Host >/dev/null
P=${BENCH_AUDIO_PORT:-18750}; UP=$P; HOST=$((P + 1))
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; return 1; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

python3 bench/audio_upstream.py $UP 600 & pids+=($!)
wait_port $UP
cat > "$work/config.yaml" <<YAML
general_settings:
  max_request_size_mb: 64
model_list:
  - model_name: whisper
    litellm_params: { model: openai/whisper-1, api_base: "http://127.0.0.1:$UP/v1", api_key: sk-bench }
  - model_name: tts
    litellm_params: { model: openai/tts-1, api_base: "http://127.0.0.1:$UP/v1", api_key: sk-bench }
router_settings:
  num_retries: 0
YAML
dotnet "$host" --config "$work/config.yaml" --port $HOST >"$work/host.log" 2>&1 & hpid=$!; pids+=($hpid)
wait_port $HOST

# 25 MB of 16 kHz mono 16-bit WAV (RIFF header, then random samples so nothing compresses it).
python3 - "$work/speech.wav" <<'PY'
import os, struct, sys
n = 25 * 1000 * 1000 - 44
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", n))
    f.write(os.urandom(n))
PY
upload() { # url: wall seconds of one transcription upload
  curl -s -o /dev/null -w '%{time_total}\n' --fail -F model=whisper -F "file=@$work/speech.wav;type=audio/wav" "$1/v1/audio/transcriptions"
}
ttfb() { # url: seconds to the first byte of a speech answer
  curl -s -o /dev/null -w '%{time_starttransfer}\n' --fail -H 'Content-Type: application/json' \
    -d '{"model":"tts","input":"The quick brown fox jumps over the lazy dog.","voice":"alloy"}' "$1/v1/audio/speech"
}
# Warm both paths (JIT, connection pool), not recorded.
upload "http://127.0.0.1:$HOST" >/dev/null; ttfb "http://127.0.0.1:$HOST" >/dev/null

direct_up=(); host_up=(); peaks=()
for _ in $(seq 1 "$reps"); do
  direct_up+=("$(upload "http://127.0.0.1:$UP")")
  before=$(kb $hpid VmRSS)
  echo 5 > /proc/$hpid/clear_refs 2>/dev/null || true   # resets VmHWM to the current RSS
  host_up+=("$(upload "http://127.0.0.1:$HOST")")
  peaks+=($(( ($(kb $hpid VmHWM) - before) / 1024 )))
done
direct_t=(); host_t=()
for _ in $(seq 1 $((reps * 4))); do
  direct_t+=("$(ttfb "http://127.0.0.1:$UP")")
  host_t+=("$(ttfb "http://127.0.0.1:$HOST")")
done
d_up=$(printf '%s\n' "${direct_up[@]}" | median); h_up=$(printf '%s\n' "${host_up[@]}" | median)
peak=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)
d_t=$(printf '%s\n' "${direct_t[@]}" | median); h_t=$(printf '%s\n' "${host_t[@]}" | median)
awk -v du="$d_up" -v hu="$h_up" -v pk="$peak" -v dt="$d_t" -v ht="$h_t" -v reps="$reps" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "## Audio through the host (bench/audio.sh)\n\n"
  printf "Medians of %d uploads and %d speech calls, interleaved with the direct calls (load average %s at the end).\n\n", reps, reps * 4, load
  printf "| Measure | Direct to the upstream | Through LLMux | Ratio / delta |\n|---|---|---|---|\n"
  printf "| Transcription, 25 MB WAV: wall time | %.3f s | %.3f s | %.2fx |\n", du, hu, hu / du
  printf "| Transcription: host peak RSS above its RSS before the upload (largest of %d) | – | %d MB | %.2f of the file size |\n", reps, pk, pk / 25
  printf "| Speech: time to first byte | %.1f ms | %.1f ms | %.2fx, +%.1f ms |\n", dt * 1000, ht * 1000, ht / dt, (ht - dt) * 1000
}'
