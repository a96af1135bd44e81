#!/usr/bin/env bash
# Added latency of the sidecar versus calling the provider simulator directly and versus nginx, at
# one connection and at fixed request rates (hey -q), small requests non-streamed and streamed; plus the sidecar's RSS idle, under load and with
# 200 concurrent streams, and its time to ready. Everything runs on loopback and stops by itself.
#
# usage: bench/sidecar-overhead.sh [seconds-per-rate (default 10)] [rates (default "500 1000 2000")]
# env: WARMUP (sidecar warm-up seconds at 2,000 req/s, default 30); shared setup in bench/lib.sh
# writes bench/results/sidecar-overhead.md
set -euo pipefail

. "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
RATES=${2:-"500 1000 2000"}
WORKERS=20
SIM_PORT=${SIM_PORT:-19081}
SIDECAR_PORT=${SIDECAR_PORT:-14081}
NGINX_PORT=${NGINX_PORT:-15081}
OUT="$ROOT/bench/results/sidecar-overhead.md"

bench_init
need_nginx

echo "starting simulator on :$SIM_PORT"
start_simulator "$SIM_PORT" || true

echo "starting nginx on :$NGINX_PORT (the baseline: a keep-alive reverse proxy to the simulator)"
start_nginx "$NGINX_PORT" "$SIM_PORT"

echo "starting sidecar on :$SIDECAR_PORT"
# the sidecar logs its JSON line per call at INFO, as in production (to a file here), with the
# same JVM options as the container image
SIDECAR_JVM=$(grep -v '^#' "$JVM_OPTIONS" | tr '\n' ' ')
start_sidecar "$SIDECAR_PORT" "$SIM_PORT"
sleep 1
RSS_IDLE=$(rss_mib $SIDECAR_PID)

BODY_DIRECT='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
BODY_SIDECAR='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
# streamed: the same 8 tokens as 8 SSE chunks plus the usage chunk and [DONE], sent without pacing,
# so the time measured is the sidecar's per-chunk work (parse, meter, re-frame), not the provider's
STREAM_DIRECT='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
STREAM_SIDECAR='{"model":"bench","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'

# hey's "resp wait" line: the average time from request sent to the first response byte, in ms
ttfb() { awk '/resp wait:/ {printf "%.3f", $3*1000}' "$1"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf (b>0)?"%.2f":"n/a", a/b}'; }

run() { # name url body rate seconds
  local q=$(( $4 / WORKERS ))
  hey -z "$5s" -c $WORKERS -q $q -m POST -T application/json -H "Authorization: Bearer bench-key" \
    -d "$3" "$2" >"$WORK/$1.txt"
}

seq_run() { # name url body
  hey -n 5000 -c 1 -m POST -T application/json -H "Authorization: Bearer bench-key" -d "$3" \
    "$2" >"$WORK/$1.txt"
}

WARMUP=${WARMUP:-30}
echo "warming up (JIT: 20-30 s at 2,000 req/s) for ${WARMUP}s + 10s streamed"
run warm "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$BODY_SIDECAR" 2000 "$WARMUP"
run warm-s "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$STREAM_SIDECAR" 2000 10
run warm-direct "http://127.0.0.1:$SIM_PORT/v1/chat/completions" "$BODY_DIRECT" 2000 5

ROWS=""
NGINX_ROWS=""
RSS_LOAD=0
row() { # mode label direct-file nginx-file sidecar-file
  local d=$3 n=$4 sc=$5
  local d50 d90 d99 n50 n90 n99 s50 s90 s99
  d50=$(pct 50 "$d"); d90=$(pct 90 "$d"); d99=$(pct 99 "$d")
  n50=$(pct 50 "$n"); n90=$(pct 90 "$n"); n99=$(pct 99 "$n")
  s50=$(pct 50 "$sc"); s90=$(pct 90 "$sc"); s99=$(pct 99 "$sc")
  ROWS+="| $1 | $2 | $(rps "$d") / $(rps "$sc") | $d50 / $d90 / $d99 | $s50 / $s90 / $s99 | **$(sub "$s50" "$d50")** / **$(sub "$s90" "$d90")** / **$(sub "$s99" "$d99")** | $(sub "$(ttfb "$sc")" "$(ttfb "$d")") | $(errors "$sc") |"$'\n'
  NGINX_ROWS+="| $1 | $2 | $(rps "$n") | $n50 / $n90 / $n99 | $s50 / $s90 / $s99 | **$(ratio "$s50" "$n50")** / **$(ratio "$s90" "$n90")** / **$(ratio "$s99" "$n99")** | $(sub "$n50" "$d50") / $(sub "$s50" "$d50") | $(errors "$n") |"$'\n'
}

for mode in non-streamed streamed; do
  if [ "$mode" = streamed ]; then bd=$STREAM_DIRECT; bs=$STREAM_SIDECAR; else bd=$BODY_DIRECT; bs=$BODY_SIDECAR; fi
  echo "$mode, one request at a time (1 connection): per-request overhead without queueing"
  seq_run "seq-direct-$mode" "http://127.0.0.1:$SIM_PORT/v1/chat/completions" "$bd"
  seq_run "seq-nginx-$mode" "http://127.0.0.1:$NGINX_PORT/v1/chat/completions" "$bd"
  seq_run "seq-sidecar-$mode" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$bs"
  row "$mode" "1 connection, sequential" "$WORK/seq-direct-$mode.txt" "$WORK/seq-nginx-$mode.txt" "$WORK/seq-sidecar-$mode.txt"
  for rate in $RATES; do
    echo "$mode, rate $rate/s: direct, through nginx, through the sidecar"
    run "direct-$mode-$rate" "http://127.0.0.1:$SIM_PORT/v1/chat/completions" "$bd" "$rate" "$DURATION"
    run "nginx-$mode-$rate" "http://127.0.0.1:$NGINX_PORT/v1/chat/completions" "$bd" "$rate" "$DURATION"
    run "sidecar-$mode-$rate" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$bs" "$rate" "$DURATION"
    RSS_LOAD=$(awk -v a="$(rss_mib $SIDECAR_PID)" -v b="$RSS_LOAD" 'BEGIN{print (a>b)?a:b}')
    row "$mode" "$rate req/s" "$WORK/direct-$mode-$rate.txt" "$WORK/nginx-$mode-$rate.txt" "$WORK/sidecar-$mode-$rate.txt"
  done
done

echo "200 concurrent streams (100 tokens at 20 tokens/s each)"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true
start_simulator "$SIM_PORT" --threads 1 --output-tokens 100 --tps 20 || true
STREAM_BODY='{"model":"bench","stream":true,"messages":[{"role":"user","content":"hi"}]}'
hey -n 200 -c 200 -t 60 -m POST -T application/json -d "$STREAM_BODY" \
  "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/streams.txt" &
HEY=$!
RSS_STREAMS=0
while kill -0 $HEY 2>/dev/null; do
  r=$(rss_mib $SIDECAR_PID); RSS_STREAMS=$(awk -v a="$r" -v b="$RSS_STREAMS" 'BEGIN{print (a>b)?a:b}')
  sleep 0.25
done
STREAM_OK=$(awk '/\[200\]/ {print $2}' "$WORK/streams.txt")

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Sidecar overhead"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(java -version 2>&1 | head -1)"
  echo "- command: \`WARMUP=$WARMUP bench/sidecar-overhead.sh $DURATION \"$RATES\"\`"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q <rate/$WORKERS>\` per rate, and \`hey -n 5000 -c 1\` for one connection; POST of a small chat completion (8 output tokens), non-streamed and streamed, keep-alive"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
  echo "- the simulator, the sidecar and hey share the same $(nproc) cores, so absolute numbers include their contention;"
  echo "  the added latency is the difference of the two runs at the same rate"
  echo
  echo "| mode | load | achieved req/s direct / sidecar | direct p50 / p90 / p99 (ms) | sidecar p50 / p90 / p99 (ms) | added p50 / p90 / p99 (ms) | added time to first byte, mean (ms) | sidecar non-200 |"
  echo "|---|---|---|---|---|---|---|---|"
  printf "%s" "$ROWS"
  echo
  echo "hey reports latencies in steps of 0.1 ms. A streamed row's latency is the whole stream (8 content"
  echo "chunks, the usage chunk and [DONE], unpaced); its time to first byte is hey's mean \"resp wait\"."
  echo "Sidecar RSS, highest after a rate step: ${RSS_LOAD} MiB."
  echo
  echo "## Against nginx (the same job, the same run)"
  echo
  echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), \`worker_processes auto\`, keep-alive upstream (64 idle connections), no buffering, access log off."
  echo "Target (DESIGN.md): the sidecar no worse than 1.5x nginx. Ratio = sidecar latency / nginx latency under the same load."
  echo
  echo "| mode | load | achieved nginx req/s | nginx p50 / p90 / p99 (ms) | sidecar p50 / p90 / p99 (ms) | ratio p50 / p90 / p99 | p50 added nginx / sidecar (ms) | nginx non-200 |"
  echo "|---|---|---|---|---|---|---|---|"
  printf "%s" "$NGINX_ROWS"
  echo
  echo "| sidecar | value |"
  echo "|---|---|"
  echo "| time from start to /readyz 200 | ${READY_MS} ms |"
  echo "| RSS idle (after start) | ${RSS_IDLE} MiB |"
  echo "| RSS peak with 200 concurrent streams | ${RSS_STREAMS} MiB (${STREAM_OK:-0}/200 streams answered 200) |"
  echo
  echo "Sidecar JVM flags: \`$SIDECAR_JVM\`; NIO transport; one JSON log line per call written at INFO."
  echo "Targets (DESIGN.md): p50 added ≤ 0.1 ms and"
  echo "p99 added ≤ 1 ms at 2,000 req/s; ≤ 64 MiB RSS idle, ≤ 128 MiB with 200 streams; ready ≤ 1 s."
} >"$OUT"
cat "$OUT"
