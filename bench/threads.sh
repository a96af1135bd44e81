#!/usr/bin/env bash
# Where the sidecar's CPU goes by thread (issue #24): the simulator upstream, one sidecar as its image
# runs it (Java 25, jvm.options + jvm-25.options, an AOT cache from a --train run; SIDECAR_RUNTIME=17
# for the build's Java 17), WARM seconds of load at RATE, then one measured window of SECS seconds;
# per thread name (numbers folded: event loops, compiler threads, GC, the log writer...), the CPU
# over the window in µs per answered request, from /proc/<pid>/task/*/stat.
#
# usage: bench/threads.sh
# env: JAR, RATE (default 2000), WARM (default 60), SECS (default 20), SIDECAR_RUNTIME (image|17),
#      JAVA25, OPTS (more JVM options), STREAM=1 (streamed chat completions)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
RATE=${RATE:-2000}
WARM=${WARM:-60}
SECS=${SECS:-20}
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SIM_PORT=${SIM_PORT:-19791}
PORT=${SIDECAR_PORT:-14791}
OPTS=${OPTS:-}
export TOLLGATE_HEALTH_PORT=0
bench_init
start_simulator "$SIM_PORT"
if [ "${SIDECAR_RUNTIME:-image}" = 17 ]; then
  JAVA=java start_sidecar "$PORT" "$SIM_PORT" "$JAR" $OPTS
else
  JVM_OPTIONS="$JVM_OPTIONS $ROOT/sidecar-proxy/src/main/jvm/jvm-25.options"
  JAVA=$JAVA25 train_aot "$WORK/s.aot" $OPTS
  JAVA=$JAVA25 start_sidecar "$PORT" "$SIM_PORT" "$JAR" $OPTS -XX:AOTCache="$WORK/s.aot"
fi
if [ -n "${STREAM:-}" ]; then
  BODY='{"model":"bench","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
else
  BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
fi
snap() { # pid -> "name ticks" per thread, names with digits folded to #
  for t in /proc/"$1"/task/*; do
    # comm may hold spaces: the fields after the ")" are stable
    awk -v t="$t" '{ s=$0; sub(/^[^(]*\(/, "", s); name=substr(s, 1, match(s, /\) [A-Z] /)-1);
      rest=substr(s, RSTART+2); split(rest, f, " "); gsub(/[0-9]+/, "#", name); print name "\t" f[12]+f[13] }' "$t/stat" 2>/dev/null || true
  done
}
ab_window sidecar "$SIDECAR_PID" "$PORT" "$WARM" "$BODY" "$RATE" >/dev/null
snap "$SIDECAR_PID" >"$WORK/t0"
T0=$(awk '{print $14+$15}' "/proc/$SIDECAR_PID/stat")
ab_window sidecar "$SIDECAR_PID" "$PORT" "$SECS" "$BODY" "$RATE" | tee "$WORK/w"
T1=$(awk '{print $14+$15}' "/proc/$SIDECAR_PID/stat")
snap "$SIDECAR_PID" >"$WORK/t1"
N=$(sed 's/.*answered=\([0-9]*\).*/\1/' "$WORK/w")
echo "load before: $LOAD_BEFORE; runtime ${SIDECAR_RUNTIME:-image}; options: ${OPTS:-none}; answered $N; process CPU $(((T1 - T0) * 1000000 / TICKS / N)) µs/request (exited threads included)"
echo "| thread (digits folded) | threads | CPU µs per request |"
echo "|---|---|---|"
awk -F'\t' -v n="$N" -v hz="$TICKS" 'FNR==NR {a[$1]+=$2; next} {b[$1]+=$2; c[$1]++}
  END {for (k in b) { d=b[k]-a[k]; if (d>0) printf "| %s | %d | %.1f |\n", k, c[k], d*1e6/hz/n }}' \
  "$WORK/t0" "$WORK/t1" | sort -t'|' -k4 -rn
