#!/usr/bin/env bash
# Native epoll against NIO (issue #24) in one interleaved run: one simulator, two sidecars of the
# same jar (TOLLGATE_TRANSPORT=nio and =epoll), each warmed WARM seconds at RATE, then ROUNDS rounds
# of one 10 s window per sidecar at RATE (hey -c 20, keep-alive), the order alternating each round.
# Per window: answers (200), the sidecar process's user+system CPU over them (µs per request), p50
# and p99 (s), load average. The first window of each sidecar may still include the JIT.
#
# usage: bench/transport-ab.sh
# env: JAR (sidecar build), RATE (default 2000), ROUNDS (default 4), WARM (default 40),
#      MODE=stream (streamed chat completions with include_usage instead of whole ones)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
RATE=${RATE:-2000}
ROUNDS=${ROUNDS:-4}
WARM=${WARM:-40}
MODE=${MODE:-plain}
SIM_PORT=${SIM_PORT:-19681}
BASE=${SIDECAR_PORT:-14681}
export TOLLGATE_HEALTH_PORT=0
bench_init
start_simulator "$SIM_PORT"
NAME=(nio epoll)
P=()
for i in 0 1; do
  TOLLGATE_TRANSPORT=${NAME[$i]} start_sidecar $((BASE + i)) "$SIM_PORT" "$JAR"
  P[$i]=$SIDECAR_PID
done
if [ "$MODE" = stream ]; then
  BODY='{"model":"bench","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
else
  BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
fi
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() { # index seconds
  local t0 t1 ok p50 p99
  t0=$(ticks "${P[$1]}")
  hey -z "$2s" -c 20 -q $((RATE / 20)) -m POST -T application/json -H "Authorization: Bearer bench-key" \
    -d "$BODY" "http://127.0.0.1:$((BASE + $1))/v1/chat/completions" >"$WORK/hey.txt"
  t1=$(ticks "${P[$1]}")
  ok=$(awk '/^ +\[200\]/ {print $2}' "$WORK/hey.txt")
  ok=${ok:-0}
  p50=$(awk '/ 50% in/ {print $3}' "$WORK/hey.txt")
  p99=$(awk '/ 99% in/ {print $3}' "$WORK/hey.txt")
  echo "${NAME[$1]} answered=$ok cpu_us_per_request=$(((t1 - t0) * 1000000 / TICKS / (ok > 0 ? ok : 1))) p50=$p50 p99=$p99 load=$(cut -d' ' -f1 /proc/loadavg)"
}
echo "load before: $LOAD_BEFORE; mode $MODE; rate $RATE"
run 0 "$WARM" >/dev/null
run 1 "$WARM" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run 0 10; run 1 10; else run 1 10; run 0 10; fi
done
grep -h "network transport" "$WORK"/sidecar-*.log | sed 's/.*"message":"\([^"]*\)".*/\1/'
