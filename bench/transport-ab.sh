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
run() { ab_window "${NAME[$1]}" "${P[$1]}" $((BASE + $1)) "$2" "$BODY" "$RATE"; } # index seconds
echo "load before: $LOAD_BEFORE; mode $MODE; rate $RATE"
ab_rounds
grep -h "network transport" "$WORK"/sidecar-*.log | sed 's/.*"message":"\([^"]*\)".*/\1/'
