#!/usr/bin/env bash
# The image's runtime against the build's (issue #24) in one interleaved run: one simulator, two
# sidecars of the same jar, "17" (Java 17, jvm.options) and "25-image" (Java 25, jvm.options +
# jvm-25.options, an AOT cache from a --train run), each warmed WARM seconds at RATE, then ROUNDS
# rounds of one 10 s window per sidecar (hey -c 20, keep-alive), the order alternating each round.
# Per window: answers (200), the sidecar process's user+system CPU over them (µs per request, the
# JIT's threads included), p50 and p99 (s), load average.
#
# usage: bench/runtime-ab.sh
# env: JAR, RATE (default 2000), ROUNDS (default 4), WARM (default 90), JAVA25, B_OPTS (more JVM
#      options for the 25-image sidecar, e.g. -XX:-UseCompactObjectHeaders); A_RUNTIME=image runs
#      the first sidecar on the image's set too (with A_OPTS), to weigh one option on Java 25 alone;
#      B_EVENT_LOOPS sets TOLLGATE_EVENT_LOOPS for the second sidecar only
set -euo pipefail

. "$(dirname "$0")/lib.sh"
RATE=${RATE:-2000}
ROUNDS=${ROUNDS:-4}
WARM=${WARM:-90}
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
B_OPTS=${B_OPTS:-}
A_RUNTIME=${A_RUNTIME:-17}
A_OPTS=${A_OPTS:-}
SIM_PORT=${SIM_PORT:-19781}
BASE=${SIDECAR_PORT:-14781}
export TOLLGATE_HEALTH_PORT=0
bench_init
start_simulator "$SIM_PORT"
P=()
OPTS25="$ROOT/sidecar-proxy/src/main/jvm/jvm.options $ROOT/sidecar-proxy/src/main/jvm/jvm-25.options"
if [ "$A_RUNTIME" = image ]; then
  NAME=(25-image-a 25-image-b)
  JAVA=$JAVA25 JVM_OPTIONS="$OPTS25" train_aot "$WORK/a.aot" $A_OPTS
  JAVA=$JAVA25 JVM_OPTIONS="$OPTS25" start_sidecar "$BASE" "$SIM_PORT" "$JAR" $A_OPTS -XX:AOTCache="$WORK/a.aot"
else
  NAME=(17 25-image)
  JAVA=java JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options" start_sidecar "$BASE" "$SIM_PORT" "$JAR" $A_OPTS
fi
P[0]=$SIDECAR_PID
JAVA=$JAVA25 JVM_OPTIONS="$OPTS25" train_aot "$WORK/b.aot" $B_OPTS
TOLLGATE_EVENT_LOOPS=${B_EVENT_LOOPS:-${TOLLGATE_EVENT_LOOPS:-}} JAVA=$JAVA25 JVM_OPTIONS="$OPTS25" start_sidecar $((BASE + 1)) "$SIM_PORT" "$JAR" $B_OPTS -XX:AOTCache="$WORK/b.aot"
P[1]=$SIDECAR_PID
BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
run() { ab_window "${NAME[$1]}" "${P[$1]}" $((BASE + $1)) "$2" "$BODY" "$RATE"; } # index seconds
echo "load before: $LOAD_BEFORE; rate $RATE; ${NAME[0]} extra options: ${A_OPTS:-none}; ${NAME[1]} extra options: ${B_OPTS:-none}, event loops ${B_EVENT_LOOPS:-default}"
ab_rounds
