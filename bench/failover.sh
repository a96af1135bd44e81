#!/usr/bin/env bash
# Resilience of the sidecar's routing: (1) with the primary target failing hard (every request
# answered 500), every request still succeeds through the fallback; (2) with the primary dead (no
# listener) and its circuit open, the latency added by the dead target, compared with a route whose
# primary is healthy. Two provider simulators on loopback, bounded load, stops by itself.
#
# usage: bench/failover.sh [seconds-per-run (default 10)] [rate req/s (default 500)]
# writes bench/results/failover.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10}
RATE=${2:-500}
WORKERS=20
GOOD_PORT=${GOOD_PORT:-19181}
BAD_PORT=${BAD_PORT:-19182}
DEAD_PORT=${DEAD_PORT:-19183} # nothing listens here
SIDECAR_PORT=${SIDECAR_PORT:-14181}
OUT="$ROOT/bench/results/failover.md"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_init

if curl -s -o /dev/null "http://127.0.0.1:$DEAD_PORT/"; then
  echo "port $DEAD_PORT must have no listener (it plays the dead provider)" >&2; exit 2
fi

echo "starting the healthy simulator on :$GOOD_PORT and the failing one (HTTP 500) on :$BAD_PORT"
start_simulator "$GOOD_PORT"
start_simulator "$BAD_PORT" --threads 1 --output-tokens 8 --fault SERVER_ERROR

echo "bench-key" >"$WORK/api-key"
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: healthy
    tiers:
      - name: main
        targets: [{credential: good, model: gpt-4o-mini}]
  - model: failing
    retry: {attempts: 0}
    circuitBreaker: {minRequests: 1000000}
    tiers:
      - name: main
        targets: [{credential: bad, model: gpt-4o-mini}]
        fallbacks: [{credential: good, model: gpt-4o-mini}]
  - model: dead
    retry: {attempts: 0}
    circuitBreaker: {minRequests: 5, cooldown: 1h}
    tiers:
      - name: main
        targets: [{credential: dead, model: gpt-4o-mini}]
        fallbacks: [{credential: good, model: gpt-4o-mini}]
credentials:
  - {name: good, provider: openai, endpoint: "http://127.0.0.1:$GOOD_PORT/v1", apiKeyFile: "$WORK/api-key"}
  - {name: bad, provider: openai, endpoint: "http://127.0.0.1:$BAD_PORT/v1", apiKeyFile: "$WORK/api-key"}
  - {name: dead, provider: openai, endpoint: "http://127.0.0.1:$DEAD_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML

echo "starting sidecar on :$SIDECAR_PORT"
SIDECAR_JVM=$(jvm_flags)
start_sidecar_with "$SIDECAR_PORT" "$WORK/config.yaml"

body() { echo "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":8}"; }
run() { # name route seconds
  hey -z "$3s" -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json \
    -d "$(body "$2")" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/$1.txt"
}
metric() { curl -s "http://127.0.0.1:$SIDECAR_PORT/metrics" | awk -v m="$1" 'index($0, m" ")==1 {print $2}'; }

echo "warming up (JIT) for 10s on each route"
run warm-healthy healthy 10
run warm-failing failing 5
run warm-dead dead 5 # also opens the dead target's circuit
CIRCUIT=$(metric 'tollgate_circuit_state{model="gpt-4o-mini",provider="openai",route="dead"}')

echo "primary failing hard (HTTP 500 on every request): every request must fail over"
run failing failing "$DURATION"
echo "primary healthy (baseline)"
run healthy healthy "$DURATION"
echo "primary dead, circuit open"
run dead dead "$DURATION"
echo "sequential, one at a time: healthy vs dead-with-open-circuit"
hey -n 3000 -c 1 -m POST -T application/json -d "$(body healthy)" \
  "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/seq-healthy.txt"
hey -n 3000 -c 1 -m POST -T application/json -d "$(body dead)" \
  "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/seq-dead.txt"
FAILOVERS=$(metric 'tollgate_failovers_total{model="gpt-4o-mini",provider="openai",route="failing"}')
DEAD_FAILOVERS=$(metric 'tollgate_failovers_total{model="gpt-4o-mini",provider="openai",route="dead"}')

added() { awk -v a="$(pct "$1" "$WORK/$2.txt")" -v b="$(pct "$1" "$WORK/$3.txt")" 'BEGIN{printf "%.3f", a-b}'; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Failover and circuit breaking"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(java -version 2>&1 | head -1)"
  echo "- command: \`bench/failover.sh $DURATION $RATE\`"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q $(( RATE / WORKERS ))\` (about $RATE req/s), POST of a small non-streamed chat completion, keep-alive; two provider simulators, the sidecar and hey on the same cores"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- routes: \`healthy\` (one healthy target), \`failing\` (primary answers 500 to everything, circuit breaking off so every request tries it, fallback healthy), \`dead\` (primary has no listener, its circuit opened during warm-up; fallback healthy)"
  echo
  echo "## Primary failing hard"
  echo
  echo "| requests | 200 | non-200 | failovers counted | p50 (ms) | p99 (ms) |"
  echo "|---|---|---|---|---|---|"
  echo "| $(awk '/\[/ && /responses/ {s+=$2} END {print s+0}' "$WORK/failing.txt") | $(ok "$WORK/failing.txt") | **$(errors "$WORK/failing.txt")** | ${FAILOVERS:-0} (whole run incl. warm-up) | $(pct 50 "$WORK/failing.txt") | $(pct 99 "$WORK/failing.txt") |"
  echo
  echo "## Dead primary with its circuit open, against a healthy primary"
  echo
  echo "Circuit state of the dead target after warm-up: ${CIRCUIT:-?} (1 = open). Failovers counted on the dead target over the whole run: ${DEAD_FAILOVERS:-0} (those of warm-up, before the circuit opened)."
  echo
  echo "| run | achieved req/s | non-200 | p50 (ms) | p99 (ms) |"
  echo "|---|---|---|---|---|"
  echo "| healthy primary | $(rps "$WORK/healthy.txt") | $(errors "$WORK/healthy.txt") | $(pct 50 "$WORK/healthy.txt") | $(pct 99 "$WORK/healthy.txt") |"
  echo "| dead primary, circuit open | $(rps "$WORK/dead.txt") | $(errors "$WORK/dead.txt") | $(pct 50 "$WORK/dead.txt") | $(pct 99 "$WORK/dead.txt") |"
  echo "| **added by the dead target** | | | **$(added 50 dead healthy)** | **$(added 99 dead healthy)** |"
  echo "| sequential: healthy primary | $(rps "$WORK/seq-healthy.txt") | $(errors "$WORK/seq-healthy.txt") | $(pct 50 "$WORK/seq-healthy.txt") | $(pct 99 "$WORK/seq-healthy.txt") |"
  echo "| sequential: dead primary, circuit open | $(rps "$WORK/seq-dead.txt") | $(errors "$WORK/seq-dead.txt") | $(pct 50 "$WORK/seq-dead.txt") | $(pct 99 "$WORK/seq-dead.txt") |"
  echo "| **sequential: added by the dead target** | | | **$(added 50 seq-dead seq-healthy)** | **$(added 99 seq-dead seq-healthy)** |"
  echo
  echo "hey reports latencies in steps of 0.1 ms. Target (issue 4): every request succeeds with the primary failing; a dead target with an open circuit adds ≤ 1 ms."
  echo "The runs are sequential on a shared machine: a negative difference means the cost of skipping the open circuit is below run-to-run noise."
  echo
  echo "Sidecar JVM flags: \`$SIDECAR_JVM\`."
} >"$OUT"
cat "$OUT"
