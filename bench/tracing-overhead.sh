#!/usr/bin/env bash
# CPU and latency cost of OpenTelemetry tracing in the sidecar: the same load (non-streamed small
# chat completions at a fixed rate) through a sidecar without tracing and through one exporting
# every call (100% sampling, always_on) over OTLP/HTTP to a local sink that accepts and discards
# the spans. CPU per request is the sidecar process's user+system CPU time over the measured
# window (from /proc/<pid>/stat) divided by the requests it answered. Runs alternate off/on
# ROUNDS times so that drift on a shared machine hits both sides. Everything runs on loopback and
# stops by itself.
#
# usage: bench/tracing-overhead.sh [seconds (default 10)] [rate (default 2000)] [rounds (default 2)]
# writes bench/results/tracing-overhead.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10}
RATE=${2:-2000}
ROUNDS=${3:-2}
WORKERS=20
SIM_PORT=${SIM_PORT:-19091}
SIDECAR_PORT=${SIDECAR_PORT:-14091}
HEALTH_PORT=${HEALTH_PORT:-14092}
SINK_PORT=${SINK_PORT:-14318}
JAR="$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"
SIM_JAR="$ROOT/simulator/target/tollgate-simulator.jar"
OUT="$ROOT/bench/results/tracing-overhead.md"

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
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: bench
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML
BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options"

ROWS=""
declare -A CPU_SUM REQ_SUM
one() { # mode round
  local mode=$1 round=$2 env=()
  if [ "$mode" = on ]; then
    env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_TRACES_SAMPLER=always_on)
  fi
  env "${env[@]}" TOLLGATE_HEALTH_PORT=$HEALTH_PORT java "@$JVM_OPTIONS" -jar "$JAR" \
    --config "$WORK/config.yaml" >"$WORK/sidecar-$mode-$round.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  wait_for "http://127.0.0.1:$HEALTH_PORT/readyz" 30
  echo "tracing $mode, round $round: warm-up 5 s, then $DURATION s at $RATE req/s"
  hey -z 5s -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json -d "$BODY" \
    "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >/dev/null
  local t0 t1 f="$WORK/$mode-$round.txt"
  t0=$(cpu_ticks $pid)
  hey -z "${DURATION}s" -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json -d "$BODY" \
    "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$f"
  t1=$(cpu_ticks $pid)
  local n cpu_ms us dropped rss
  n=$(ok "$f"); n=${n:-0}
  cpu_ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))
  us=$(awk -v c="$cpu_ms" -v n="$n" 'BEGIN{printf (n>0)?"%.1f":"n/a", c*1000/n}')
  dropped=$(curl -fs "http://127.0.0.1:$HEALTH_PORT/metrics" | awk '/^tollgate_trace_spans_dropped_total / {print $2}')
  rss=$(rss_mib $pid)
  CPU_SUM[$mode]=$(( ${CPU_SUM[$mode]:-0} + cpu_ms ))
  REQ_SUM[$mode]=$(( ${REQ_SUM[$mode]:-0} + n ))
  ROWS+="| $mode | $round | $n | $(errors "$f") | $cpu_ms | **$us** | $(pct 50 "$f") / $(pct 99 "$f") | ${dropped:-0} | $rss |"$'\n'
  kill $pid; wait $pid 2>/dev/null || true
}

for round in $(seq 1 "$ROUNDS"); do
  one off "$round"
  one on "$round"
done
SINK=$(curl -fs "http://127.0.0.1:$SINK_PORT/")

per() { awk -v c="${CPU_SUM[$1]}" -v n="${REQ_SUM[$1]}" 'BEGIN{printf "%.1f", c*1000/n}'; }
OFF=$(per off); ON=$(per on)
DELTA=$(awk -v a="$ON" -v b="$OFF" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}')
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Tracing overhead"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($CPU), $(uname -sr); $(java -version 2>&1 | head -1)"
  echo "- command: \`bench/tracing-overhead.sh $DURATION $RATE $ROUNDS\`"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q $(( RATE / WORKERS ))\` (target $RATE req/s) of a small non-streamed chat completion, after 5 s of warm-up, per run; runs alternate off/on"
  echo "- tracing on: \`OTEL_EXPORTER_OTLP_ENDPOINT\` at a local sink (Python, accepts and discards), \`OTEL_TRACES_SAMPLER=always_on\`: every call exports a call span and an attempt span"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg). The simulator, the sink, hey and the sidecar share these cores with other work on the machine: treat differences of a few percent as noise"
  echo "- OTLP sink received (posts, bytes): $SINK"
  echo
  echo "| tracing | round | requests answered | errors | sidecar CPU (ms) | CPU per request (µs) | latency p50 / p99 (ms) | spans dropped | RSS after (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf "%s" "$ROWS"
  echo
  echo "**CPU per request: off $OFF µs, on $ON µs ($DELTA)**; the target is at most +10% with 100% sampling."
} >"$OUT"
cat "$OUT"
