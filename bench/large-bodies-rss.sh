#!/usr/bin/env bash
# Memory after large bodies and large answers (#18): the sidecar with the container's JVM options
# (sidecar-proxy/src/main/jvm/jvm.options) takes the request shapes that once killed it or pushed
# its RSS over the 192 MiB memory limit the webhook injects:
#   1. bodies of 60,000 tiny messages (2 MB each) and single 3.5 MB prompts, 4 at a time;
#   2. large answers (20,000 output tokens each), whole and streamed, 8 at a time;
#   3. both at once;
# then idles, and reports the RSS after each phase, its maximum, and whether the sidecar lived.
# Loopback only (two provider simulators), bounded, stops by itself.
#
# usage: bench/large-bodies-rss.sh [rounds per phase (default 20)]
# JVM_OPTIONS_FILE=other.options tries other JVM options; with -XX:NativeMemoryTracking=summary in
# them, the JVM's own account of its memory is written to NMT_OUT (default /tmp/large-bodies-nmt.txt),
# with `pmap -x` and the RSS before and after `jcmd System.trim_native_heap` (what glibc holds freed).
# JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java runs another runtime (default: java on the PATH);
# JVM_OPTIONS_FILE may name several files, separated by spaces (e.g. jvm.options jvm-25.options).
# writes bench/results/large-bodies-rss.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-20}
SIM_PORT=${SIM_PORT:-19291}
BIG_SIM_PORT=${BIG_SIM_PORT:-19292}
SIDECAR_PORT=${SIDECAR_PORT:-14291}
OUT="$ROOT/bench/results/large-bodies-rss.md"
LIMIT_MIB=${LIMIT_MIB:-192} # the memory limit the webhook injects (InjectionSettings)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_init

echo "starting two simulators (8 and 20,000 output tokens)"
start_simulator "$SIM_PORT"
start_simulator "$BIG_SIM_PORT" --threads 1 --output-tokens 20000

echo "bench-key" >"$WORK/api-key"
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: small-answers
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
  - model: large-answers
    tiers:
      - name: main
        targets: [{credential: big, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
  - {name: big, provider: openai, endpoint: "http://127.0.0.1:$BIG_SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML

JVM_OPTIONS=${JVM_OPTIONS_FILE:-$JVM_OPTIONS}
JAVA=${JAVA:-java}
echo "starting the sidecar on :$SIDECAR_PORT with $(jvm_flags)"
export TOLLGATE_LOG_LEVEL=WARN
start_sidecar_with "$SIDECAR_PORT" "$WORK/config.yaml"

alive() { kill -0 "$SIDECAR_PID" 2>/dev/null; }
rss() { # the sidecar's RSS in MiB and a newline, or "-" once it is gone
  if alive; then echo "$(rss_mib "$SIDECAR_PID")"; else echo "-"; fi
}

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
many = {"model": "small-answers", "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"} for _ in range(60000)]}
open(f"{work}/many.json", "w").write(json.dumps(many))
big = {"model": "small-answers", "max_tokens": 8,
       "messages": [{"role": "user", "content": "lorem ipsum " * 300000}]}
open(f"{work}/big.json", "w").write(json.dumps(big))
for stream in (False, True):
    a = {"model": "large-answers", "stream": stream, "max_tokens": 20000,
         "messages": [{"role": "user", "content": "Tell me a long story."}]}
    open(f"{work}/answer-{'stream' if stream else 'whole'}.json", "w").write(json.dumps(a))
PY
echo "bodies: $(du -h "$WORK/many.json" | cut -f1) (60,000 messages), $(du -h "$WORK/big.json" | cut -f1) (one prompt)"

post() { # body file -> HTTP status
  curl -s -o /dev/null -w '%{http_code}\n' -m 120 -H 'content-type: application/json' \
    --data-binary "@$1" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" || echo 000
}
: >"$WORK/statuses"
: >"$WORK/phases"
sampler() {
  while alive; do
    rss >>"$WORK/rss"
    sleep 0.2
  done
}
: >"$WORK/rss"
sampler &
PIDS+=($!)

phase() { # name, then the body files sent together each round
  local name=$1
  shift
  echo "phase: $name ($ROUNDS rounds)"
  for r in $(seq 1 "$ROUNDS"); do
    alive || break
    local pids=()
    for f in "$@"; do
      post "$f" >>"$WORK/statuses" &
      pids+=($!)
    done
    wait "${pids[@]}" || true
    if [ $((r % 5)) -eq 0 ]; then echo "  round $r/$ROUNDS, RSS $(rss) MiB"; fi
  done
  echo -e "$name\t$(rss)" >>"$WORK/phases"
}
RSS_START=$(rss)
phase "large bodies" "$WORK/many.json" "$WORK/many.json" "$WORK/big.json" "$WORK/big.json"
phase "large answers" "$WORK/answer-whole.json" "$WORK/answer-whole.json" "$WORK/answer-whole.json" \
  "$WORK/answer-whole.json" "$WORK/answer-stream.json" "$WORK/answer-stream.json" \
  "$WORK/answer-stream.json" "$WORK/answer-stream.json"
phase "both at once" "$WORK/many.json" "$WORK/big.json" "$WORK/answer-whole.json" \
  "$WORK/answer-stream.json" "$WORK/answer-stream.json"
echo "idle 20 s"
sleep 20
echo -e "idle 20 s after\t$(rss)" >>"$WORK/phases"
ALIVE=$(alive && echo yes || echo "no (see its log)")
if [[ " $(jvm_flags) " == *NativeMemoryTracking* ]] && alive; then
  NMT_FILE=${NMT_OUT:-/tmp/large-bodies-nmt.txt}
  {
    echo "RSS $(rss) MiB"
    jcmd "$SIDECAR_PID" VM.native_memory summary 2>&1 || true
    echo "## pmap -x (largest RSS first)"
    pmap -x "$SIDECAR_PID" | sort -k3 -n -r | head -40
    echo "## glibc's free memory given back (jcmd System.trim_native_heap)"
    jcmd "$SIDECAR_PID" System.trim_native_heap 2>&1 | tail -1
    sleep 1
    echo "RSS after trim $(rss) MiB"
  } >"$NMT_FILE" 2>&1
fi
ERRORS=$(curl -s "http://127.0.0.1:$SIDECAR_PORT/metrics" | grep '^tollgate_errors_total{' |
  sed -E 's/.*kind="([^"]*)".*route="([^"]*)".* ([0-9.eE+]+)$/\2 \1: \3/' | tr '\n' ';' | sed 's/;$//')
RSS_MAX=$(awk 'BEGIN {m = 0} $1 != "-" && $1 > m {m = $1} END {print m}' "$WORK/rss")
STATUSES=$(sort "$WORK/statuses" | uniq -c | awk '{printf "%s× %s, ", $1, $2}' | sed 's/, $//')
VERDICT=$(awk -v m="$RSS_MAX" -v l=$LIMIT_MIB 'BEGIN {print (m < l) ? "under" : "OVER"}')

{
  echo "# RSS after large bodies and large answers"
  echo
  echo "Run \`bench/large-bodies-rss.sh $ROUNDS\` on $(date -u +%Y-%m-%d), $(nproc) cores shared with other work (load average before: $LOAD_BEFORE)."
  echo
  echo "- sidecar: \`sidecar-proxy/target/tollgate-sidecar.jar\` on $("$JAVA" -version 2>&1 | head -1 | tr -d '"') with \`${JVM_OPTIONS_FILE:-src/main/jvm/jvm.options}\` ($(jvm_flags))" | sed "s|$ROOT/||g"
  echo "- bodies: 60,000 tiny messages (about 2 MB) and one 3.5 MB prompt, 4 at a time; answers of 20,000 output tokens, whole and streamed, 8 at a time; then both at once"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| RSS at start | $RSS_START MiB |"
  awk -F'\t' '{printf "| RSS after %s | %s MiB |\n", $1, $2}' "$WORK/phases"
  echo "| RSS maximum (sampled every 0.2 s) | $RSS_MAX MiB: $VERDICT the $LIMIT_MIB MiB limit |"
  echo "| answers (HTTP status) | $STATUSES |"
  echo "| errors by route and kind (\`tollgate_errors_total\`) | ${ERRORS:-none} |"
  echo "| sidecar alive at the end | $ALIVE |"
  echo
  echo "413 or 503 answers are the memory bounds at work (a body over the limit, or the in-flight"
  echo "body budget taken); 000 would be a transport failure."
} >"$OUT"
cat "$OUT"
