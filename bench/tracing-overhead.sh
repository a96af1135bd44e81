#!/usr/bin/env bash
# CPU and latency cost of OpenTelemetry tracing in the sidecar: the same load (non-streamed small
# chat completions at a fixed rate) through a sidecar without tracing and through one exporting
# every call (100% sampling, always_on) over OTLP/HTTP to a local sink that accepts and discards
# the spans.
#
# Fair by construction: both sidecars start once and live for the whole run; each is warmed up
# under the same load for WARMUP seconds (default 60, so the JIT has compiled the hot path of each
# before anything is counted), then measured windows alternate off/on ROUNDS times (default 8: with 3
# or 4 rounds one window's drift of up to 2x moved the verdict by 10 points), so that drift on a
# shared machine hits both sides. CPU per request is the sidecar process's user+system CPU
# time over the measured window only (from /proc/<pid>/stat) divided by the requests it answered.
# With BASE_JAR=path/to/other/tollgate-sidecar.jar a third sidecar ("on-base": that jar, tracing
# on) joins the rotation, so a change's before and after are measured side by side in one run.
# Everything runs on loopback and stops by itself.
#
# usage: [WARMUP=60] [BASE_JAR=...] bench/tracing-overhead.sh [seconds per window (default 10)] [rate (default 2000)] [rounds (default 8)]
# (about 5 minutes at the defaults)
# appends the run to bench/results/tracing-overhead.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10}
RATE=${2:-2000}
ROUNDS=${3:-8}
WARMUP=${WARMUP:-60}
BASE_JAR=${BASE_JAR:-}
WORKERS=20
SIM_PORT=${SIM_PORT:-19091}
PORT_BASE=${PORT_BASE:-14091}
SINK_PORT=${SINK_PORT:-14318}
JAR=${JAR:-"$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"}
SIM_JAR="$ROOT/simulator/target/tollgate-simulator.jar"
OUT=${OUT:-"$ROOT/bench/results/tracing-overhead.md"}

if ! command -v hey >/dev/null; then
  apt-get install -y hey >/dev/null || { apt-get update -qq && apt-get install -y hey >/dev/null; }
fi
if [ ! -f "$JAR" ] || [ ! -f "$SIM_JAR" ]; then
  (cd "$ROOT" && mvn -B -q -pl sidecar-proxy,simulator -am package -DskipTests)
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # url, max seconds
  for _ in $(seq 1 $(( $2 * 20 ))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2; return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '{printf "%.1f", $1/1024}' <(ps -o rss= -p "$1"); }
pct() { awk -v p="$1%" '$1==p && $2=="in" {printf "%.3f", $3*1000}' "$2"; }
ok() { awk '/\[200\]/ {print $2}' "$1"; }
errors() { awk '/Status code distribution:/{f=1;next} f && /\[/ {if ($1!="[200]") s+=$2} END {print s+0}' "$1"; }

echo "starting simulator on :$SIM_PORT"
java -XX:+UseSerialGC -Xmx256m -jar "$SIM_JAR" \
  --port "$SIM_PORT" --threads 1 --output-tokens 8 >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SIM_PORT/v1/models" 20 || true

echo "starting the OTLP sink on :$SINK_PORT (accepts POST /v1/traces, counts bytes, keeps nothing)"
cat >"$WORK/sink.py" <<'PY'
import sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
stats = {"posts": 0, "bytes": 0}
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    # keep-alive, as an OpenTelemetry Collector's OTLP/HTTP receiver (Go net/http) does; the
    # default HTTP/1.0 would make the exporter open a connection per batch
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        self.rfile.read(n)
        with lock:
            stats["posts"] += 1; stats["bytes"] += n
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def do_GET(self):
        body = ("%d %d\n" % (stats["posts"], stats["bytes"])).encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/sink.py" "$SINK_PORT" &
PIDS+=($!)
wait_for "http://127.0.0.1:$SINK_PORT/" 10

echo "bench-key" >"$WORK/api-key"
BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options"
MODES=(off on)
[ -n "$BASE_JAR" ] && MODES+=(on-base)
declare -A PID PORT HPORT CPU_SUM REQ_SUM US
i=0
for mode in "${MODES[@]}"; do
  PORT[$mode]=$(( PORT_BASE + 2 * i )); HPORT[$mode]=$(( PORT_BASE + 2 * i + 1 )); i=$(( i + 1 ))
  cat >"$WORK/config-$mode.yaml" <<YAML
namespace: bench
server:
  port: ${PORT[$mode]}
routes:
  - model: bench
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML
  env=() jar=$JAR
  if [ "$mode" != off ]; then
    env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_TRACES_SAMPLER=always_on)
  fi
  [ "$mode" = on-base ] && jar=$BASE_JAR
  env "${env[@]}" TOLLGATE_HEALTH_PORT=${HPORT[$mode]} java "@$JVM_OPTIONS" -jar "$jar" \
    --config "$WORK/config-$mode.yaml" >"$WORK/sidecar-$mode.log" 2>&1 &
  PID[$mode]=$!
  PIDS+=(${PID[$mode]})
  wait_for "http://127.0.0.1:${HPORT[$mode]}/readyz" 30
done

load() { # mode seconds
  hey -z "$2s" -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json -d "$BODY" \
    "http://127.0.0.1:${PORT[$1]}/v1/chat/completions"
}
for mode in "${MODES[@]}"; do
  echo "tracing $mode: warm-up ${WARMUP} s at $RATE req/s (not counted)"
  load "$mode" "$WARMUP" >/dev/null
done

ROWS=""
one() { # mode round
  local mode=$1 round=$2 pid=${PID[$1]}
  echo "tracing $mode, round $round: $DURATION s at $RATE req/s"
  local t0 t1 f="$WORK/$mode-$round.txt"
  t0=$(cpu_ticks "$pid")
  load "$mode" "$DURATION" >"$f"
  t1=$(cpu_ticks "$pid")
  local n cpu_ms us dropped
  n=$(ok "$f"); n=${n:-0}
  cpu_ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))
  us=$(awk -v c="$cpu_ms" -v n="$n" 'BEGIN{printf (n>0)?"%.1f":"n/a", c*1000/n}')
  dropped=$(curl -fs "http://127.0.0.1:${HPORT[$mode]}/metrics" | awk '/^tollgate_trace_spans_dropped_total / {print $2}')
  US[$mode,$round]=$us
  CPU_SUM[$mode]=$(( ${CPU_SUM[$mode]:-0} + cpu_ms ))
  REQ_SUM[$mode]=$(( ${REQ_SUM[$mode]:-0} + n ))
  ROWS+="| $mode | $round | $n | $(errors "$f") | $cpu_ms | **$us** | $(pct 50 "$f") / $(pct 99 "$f") | ${dropped:-0} | $(rss_mib "$pid") |"$'\n'
}

for round in $(seq 1 "$ROUNDS"); do
  # rotate the order each round, so no configuration always runs right after the same other one
  for k in $(seq 0 $(( ${#MODES[@]} - 1 ))); do
    one "${MODES[$(( (k + round - 1) % ${#MODES[@]} ))]}" "$round"
  done
done
SINK=$(curl -fs "http://127.0.0.1:$SINK_PORT/")

per() { awk -v c="${CPU_SUM[$1]}" -v n="${REQ_SUM[$1]}" 'BEGIN{printf "%.1f", c*1000/n}'; }
delta() { awk -v a="$(per "$1")" -v b="$(per off)" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}'; }
# the median over rounds of (mode / off within the same round): load that drifts between rounds
# (a shared machine) cancels out, which the pooled totals above do not
paired() {
  for r in $(seq 1 "$ROUNDS"); do
    awk -v a="${US[$1,$r]}" -v b="${US[off,$r]}" 'BEGIN{if (b+0>0) printf "%.4f\n", (a-b)/b}'
  done | sort -g | awk '{v[NR]=$1} END{if (NR==0) {print "n/a"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%+.1f%%", m*100}'
}
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo
  echo "## Run of $(date -u +%Y-%m-%dT%H:%M:%SZ) (long-lived sidecars, ${WARMUP} s warm-up each)"
  echo
  echo "- machine: $(nproc) cores ($CPU), $(uname -sr); $(java -version 2>&1 | head -1)"
  echo "- command: \`${BASE_JAR:+BASE_JAR=<previous build> }WARMUP=$WARMUP bench/tracing-overhead.sh $DURATION $RATE $ROUNDS\` at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q $(( RATE / WORKERS ))\` (target $RATE req/s) of a small non-streamed chat completion per measured window; each sidecar started once and warmed up ${WARMUP} s under the same load before the first window; windows rotate between the configurations; only the windows' CPU counts"
  echo "- tracing on: \`OTEL_EXPORTER_OTLP_ENDPOINT\` at a local sink (Python, accepts and discards), \`OTEL_TRACES_SAMPLER=always_on\`${BASE_JAR:+; on-base: the same with the build before the change}"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg). The simulator, the sink, hey and the sidecars share these cores: treat differences of a few percent as noise"
  echo "- OTLP sink received (posts, bytes): $SINK"
  echo
  echo "| tracing | round | requests answered | errors | sidecar CPU (ms) | CPU per request (µs) | latency p50 / p99 (ms) | spans dropped | RSS (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf "%s" "$ROWS"
  echo
  printf "**CPU per request: off %s µs, on %s µs (%s)**" "$(per off)" "$(per on)" "$(delta on)"
  [ -n "$BASE_JAR" ] && printf "; on with the previous build %s µs (%s)" "$(per on-base)" "$(delta on-base)"
  echo "; the target is at most +10% with 100% sampling."
  echo
  printf "Median over rounds of the same round's on/off ratio: on %s" "$(paired on)"
  [ -n "$BASE_JAR" ] && printf ", on with the previous build %s" "$(paired on-base)"
  echo "."
} >"$WORK/run.md"
cat "$WORK/run.md" >>"$OUT"
cat "$WORK/run.md"
