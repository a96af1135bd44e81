#!/usr/bin/env bash
# Soak: the sidecar with the container's JVM options (sidecar-proxy/src/main/jvm/jvm.options) under
# steady load while the provider fails 5% of calls with HTTP 500 and the route retries. Reports the
# failed-call rate, the sidecar's RSS over time (against the 256 MiB memory limit the webhook
# injects), and unmetered calls (answers the sidecar gave that its own metering did not count).
# One provider simulator on loopback, bounded load, stops by itself.
#
# usage: bench/soak.sh [seconds (default 600)] [rate req/s (default 300)] [fault rate (default 0.05)]
# env: JAVA (default java), JVM_OPTIONS (option files, default src/main/jvm/jvm.options; the image's
#   set is "jvm.options jvm-25.options" with JAVA=.../temurin-25-jdk-amd64/bin/java), EXTRA_OPTS
#   (e.g. -XX:AOTCache=FILE from a --train run with the same options), OUT
# writes bench/results/soak.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-600}
RATE=${2:-300}
FAULT_RATE=${3:-0.05}
WORKERS=30
SIM_PORT=${SIM_PORT:-19191}
SIDECAR_PORT=${SIDECAR_PORT:-14191}
JAR="$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"
SIM_JAR="$ROOT/simulator/target/tollgate-simulator.jar"
OUT=${OUT:-$ROOT/bench/results/soak.md}
JAVA=${JAVA:-java}
JVM_OPTIONS=${JVM_OPTIONS:-$ROOT/sidecar-proxy/src/main/jvm/jvm.options}

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

echo "starting the simulator on :$SIM_PORT (HTTP 500 on ${FAULT_RATE} of calls)"
java -XX:+UseSerialGC -Xmx256m -jar "$SIM_JAR" --port "$SIM_PORT" --threads 1 \
  --output-tokens 8 --fault SERVER_ERROR --fault-rate "$FAULT_RATE" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SIM_PORT/v1/models" 20 || true

echo "bench-key" >"$WORK/api-key"
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: soak
    retry: {attempts: 3, backoffBase: 10ms, backoffCap: 200ms}
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML

# shellcheck disable=SC2086
mapfile -t JVM_OPTS < <(cat $JVM_OPTIONS | grep -v '^\s*#' | grep -v '^\s*$')
# shellcheck disable=SC2206
[ -z "${EXTRA_OPTS:-}" ] || JVM_OPTS+=($EXTRA_OPTS)
echo "starting the sidecar on :$SIDECAR_PORT with ${JVM_OPTS[*]}"
TOLLGATE_LOG_LEVEL=WARN "$JAVA" "${JVM_OPTS[@]}" -jar "$JAR" --config "$WORK/config.yaml" \
  >"$WORK/sidecar.log" 2>&1 &
SIDECAR_PID=$!
PIDS+=($SIDECAR_PID)
wait_for "http://127.0.0.1:$SIDECAR_PORT/readyz" 30

metric() { # sum of every sample of a metric family
  curl -s "http://127.0.0.1:$SIDECAR_PORT/metrics" |
    awk -v m="$1" 'index($0, m"{")==1 || index($0, m" ")==1 {s += $NF} END {printf "%d\n", s}'
}
rss_mib() { awk '/VmRSS/ {printf "%.1f\n", $2 / 1024}' "/proc/$SIDECAR_PID/status"; }

BODY='{"model":"soak","messages":[{"role":"user","content":"hello"}]}'
echo "soak: ${DURATION}s at about $RATE req/s"
RSS_START=$(rss_mib)
: >"$WORK/rss.tsv"
(
  start=$(date +%s)
  while kill -0 "$SIDECAR_PID" 2>/dev/null; do
    echo -e "$(( $(date +%s) - start ))\t$(rss_mib)" >>"$WORK/rss.tsv"
    sleep 10
  done
) &
SAMPLER=$!
PIDS+=($SAMPLER)
hey -z "${DURATION}s" -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json \
  -d "$BODY" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/hey.txt"
kill "$SAMPLER" 2>/dev/null || true
sleep 1
ALIVE=$(kill -0 "$SIDECAR_PID" 2>/dev/null && echo yes || echo "no (see its log)")
RSS_END=$(rss_mib || echo "-")

OK=$(awk '/\[200\]/ {print $2}' "$WORK/hey.txt"); OK=${OK:-0}
SENT=$(awk '/\[[0-9]+\]/ {s += $2} END {print s + 0}' "$WORK/hey.txt")
ERRS=$(awk '/^Error distribution/ {f=1; next} f && /\[/ {s += $1} END {print s + 0}' "$WORK/hey.txt")
TOTAL=$(( SENT + ERRS ))
FAILED=$(( TOTAL - OK ))
RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/hey.txt")
METERED=$(metric tollgate_requests_total)
INCOMPLETE=$(metric tollgate_usage_incomplete_total)
FAILOVERS=$(metric tollgate_failovers_total)
UPSTREAM=$(curl -s "http://127.0.0.1:$SIM_PORT/stats" 2>/dev/null || true)
RSS_MAX=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$WORK/rss.tsv")

{
  echo "# Soak: steady load with 5% upstream 500s and retries"
  echo
  echo "Run \`bench/soak.sh $DURATION $RATE $FAULT_RATE\` on $(date -u +%Y-%m-%d), $(nproc) cores shared with other work (load average before: $LOAD_BEFORE)."
  echo
  echo "- sidecar: \`sidecar-proxy/target/tollgate-sidecar.jar\` on \`$("$JAVA" -version 2>&1 | head -1)\` with \`${JVM_OPTS[*]}\`"
  echo "- provider: one simulator answering HTTP 500 to ${FAULT_RATE} of calls at random, 8 output tokens otherwise"
  echo "- route: one target, \`retry: {attempts: 3, backoffBase: 10ms, backoffCap: 200ms}\`, default circuit breaker (its only target: when it opens, calls are still tried and retried)"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q $(( RATE / WORKERS ))\` (about $RATE req/s), a small non-streamed chat completion, keep-alive"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| duration | ${DURATION} s |"
  echo "| requests sent (answered + transport errors) | $TOTAL |"
  echo "| throughput | $RPS req/s |"
  echo "| failed calls (not 200) | $FAILED ($(awk -v f=$FAILED -v t=$TOTAL 'BEGIN {printf "%.3f", t ? 100 * f / t : 0}')%) |"
  echo "| failovers and retries (\`tollgate_failovers_total\`) | $FAILOVERS |"
  echo "| calls metered by the sidecar (\`tollgate_requests_total\`) | $METERED |"
  echo "| unmetered calls (requests sent − metered) | $(( TOTAL - METERED )) |"
  echo "| calls with incomplete usage (\`tollgate_usage_incomplete_total\`) | $INCOMPLETE |"
  echo "| RSS at start / max / end | $RSS_START / $RSS_MAX / $RSS_END MiB (limit 256 MiB) |"
  echo "| sidecar alive at the end | $ALIVE |"
  echo
  echo "RSS every 10 s (seconds, MiB):"
  echo
  echo '```'
  cat "$WORK/rss.tsv"
  echo '```'
  echo
  echo "hey's status distribution:"
  echo
  echo '```'
  sed -n '/Status code distribution/,$p' "$WORK/hey.txt"
  echo '```'
} >"$OUT"
cat "$OUT"
