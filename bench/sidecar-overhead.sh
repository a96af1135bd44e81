#!/usr/bin/env bash
# Added latency of the sidecar versus calling the provider simulator directly, at fixed request
# rates (hey -q), small non-streamed requests; plus the sidecar's RSS idle, under load and with
# 200 concurrent streams, and its time to ready. Everything runs on loopback and stops by itself.
#
# usage: bench/sidecar-overhead.sh [seconds-per-rate (default 10)] [rates (default "500 1000 2000")]
# writes bench/results/sidecar-overhead.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10}
RATES=${2:-"500 1000 2000"}
WORKERS=20
SIM_PORT=${SIM_PORT:-19081}
SIDECAR_PORT=${SIDECAR_PORT:-14081}
JAR="$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"
OUT="$ROOT/bench/results/sidecar-overhead.md"

NGINX_PORT=${NGINX_PORT:-15081}
if ! command -v nginx >/dev/null; then
  apt-get install -y nginx-light >/dev/null 2>&1 || apt-get install -y nginx >/dev/null 2>&1 || \
    { apt-get update -qq && apt-get install -y nginx >/dev/null; }
fi
if ! command -v hey >/dev/null; then
  apt-get install -y hey >/dev/null || { apt-get update -qq && apt-get install -y hey >/dev/null; }
fi
if [ ! -f "$JAR" ]; then
  (cd "$ROOT" && mvn -B -q -pl sidecar-proxy -am package -DskipTests)
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

rss_mib() { awk '{printf "%.1f", $1/1024}' <(ps -o rss= -p "$1"); }

wait_for() { # url, max seconds
  for _ in $(seq 1 $(( $2 * 20 ))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2; return 1
}

echo "starting simulator on :$SIM_PORT"
java -XX:+UseSerialGC -Xmx256m -cp "$JAR" dev.tollgate.sidecar.sim.SimulatorMain \
  --port "$SIM_PORT" --threads 1 --output-tokens 8 >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SIM_PORT/v1/models" 20 || true

echo "starting nginx on :$NGINX_PORT (the baseline: a keep-alive reverse proxy to the simulator)"
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream simulator { server 127.0.0.1:$SIM_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_for "http://127.0.0.1:$NGINX_PORT/v1/models" 20

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

echo "starting sidecar on :$SIDECAR_PORT"
START_NS=$(date +%s%N)
# the sidecar logs its JSON line per call at INFO, as in production (to a file here)
# The same JVM options as the container image (sidecar-proxy/Dockerfile).
JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options"
SIDECAR_JVM=$(grep -v '^#' "$JVM_OPTIONS" | tr '\n' ' ')
java "@$JVM_OPTIONS" -jar "$JAR" --config "$WORK/config.yaml" >"$WORK/sidecar.log" 2>&1 &
SIDECAR_PID=$!
PIDS+=($SIDECAR_PID)
wait_for "http://127.0.0.1:$SIDECAR_PORT/readyz" 30
READY_MS=$(( ($(date +%s%N) - START_NS) / 1000000 ))
sleep 1
RSS_IDLE=$(rss_mib $SIDECAR_PID)

BODY_DIRECT='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
BODY_SIDECAR='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'

# hey prints "  50% in 0.0004 secs"; returns the value in ms
pct() { awk -v p="$1%" '$1==p && $2=="in" {printf "%.3f", $3*1000}' "$2"; }
rps() { awk '/Requests\/sec:/ {printf "%.0f", $2}' "$1"; }
errors() { awk '/Status code distribution:/{f=1;next} f && /\[/ {if ($1!="[200]") s+=$2} END {print s+0}' "$1"; }

run() { # name url body rate seconds
  local q=$(( $4 / WORKERS ))
  hey -z "$5s" -c $WORKERS -q $q -m POST -T application/json -H "Authorization: Bearer bench-key" \
    -d "$3" "$2" >"$WORK/$1.txt"
}

echo "warming up (JIT) for 10s"
run warm "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$BODY_SIDECAR" 2000 10
run warm-direct "http://127.0.0.1:$SIM_PORT/v1/chat/completions" "$BODY_DIRECT" 2000 5

echo "sequential, one request at a time: per-request overhead without queueing"
hey -n 5000 -c 1 -m POST -T application/json -H "Authorization: Bearer bench-key" -d "$BODY_DIRECT" \
  "http://127.0.0.1:$SIM_PORT/v1/chat/completions" >"$WORK/seq-direct.txt"
hey -n 5000 -c 1 -m POST -T application/json -d "$BODY_SIDECAR" \
  "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/seq-sidecar.txt"

ROWS=""
NGINX_ROWS=""
RSS_LOAD=0
for rate in $RATES; do
  echo "rate $rate/s: direct"
  run "direct-$rate" "http://127.0.0.1:$SIM_PORT/v1/chat/completions" "$BODY_DIRECT" "$rate" "$DURATION"
  echo "rate $rate/s: through nginx"
  run "nginx-$rate" "http://127.0.0.1:$NGINX_PORT/v1/chat/completions" "$BODY_DIRECT" "$rate" "$DURATION"
  echo "rate $rate/s: through the sidecar"
  run "sidecar-$rate" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" "$BODY_SIDECAR" "$rate" "$DURATION"
  RSS_LOAD=$(rss_mib $SIDECAR_PID)
  d50=$(pct 50 "$WORK/direct-$rate.txt"); s50=$(pct 50 "$WORK/sidecar-$rate.txt")
  d99=$(pct 99 "$WORK/direct-$rate.txt"); s99=$(pct 99 "$WORK/sidecar-$rate.txt")
  a50=$(awk -v a="$s50" -v b="$d50" 'BEGIN{printf "%.3f", a-b}')
  a99=$(awk -v a="$s99" -v b="$d99" 'BEGIN{printf "%.3f", a-b}')
  n50=$(pct 50 "$WORK/nginx-$rate.txt"); n99=$(pct 99 "$WORK/nginx-$rate.txt")
  na50=$(awk -v a="$n50" -v b="$d50" 'BEGIN{printf "%.3f", a-b}')
  na99=$(awk -v a="$n99" -v b="$d99" 'BEGIN{printf "%.3f", a-b}')
  r50=$(awk -v a="$s50" -v b="$n50" 'BEGIN{printf (b>0)?"%.2f":"n/a", a/b}')
  r99=$(awk -v a="$s99" -v b="$n99" 'BEGIN{printf (b>0)?"%.2f":"n/a", a/b}')
  NGINX_ROWS+="| $rate | $(rps "$WORK/nginx-$rate.txt") | $n50 | $s50 | **$r50** | $n99 | $s99 | **$r99** | $na50 / $a50 | $(errors "$WORK/nginx-$rate.txt") |"$'\n'
  ROWS+="| $rate | $(rps "$WORK/direct-$rate.txt") / $(rps "$WORK/sidecar-$rate.txt") | $d50 | $s50 | **$a50** | $d99 | $s99 | **$a99** | $(errors "$WORK/sidecar-$rate.txt") | $RSS_LOAD |"$'\n'
done

echo "200 concurrent streams (100 tokens at 20 tokens/s each)"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
java -XX:+UseSerialGC -Xmx256m -cp "$JAR" dev.tollgate.sidecar.sim.SimulatorMain \
  --port "$SIM_PORT" --threads 1 --output-tokens 100 --tps 20 >"$WORK/sim2.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SIM_PORT/v1/models" 20 || true
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
  echo "- command: \`bench/sidecar-overhead.sh $DURATION \"$RATES\"\`"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q <rate/$WORKERS>\`, POST of a small non-streamed chat completion (8 output tokens), keep-alive"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
  echo "- the simulator, the sidecar and hey share the same $(nproc) cores, so absolute numbers include their contention;"
  echo "  the added latency is the difference of the two runs at the same rate"
  echo
  echo "| rate (req/s) | achieved direct / sidecar | p50 direct (ms) | p50 sidecar (ms) | p50 added (ms) | p99 direct (ms) | p99 sidecar (ms) | p99 added (ms) | sidecar non-200 | sidecar RSS after (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf "%s" "$ROWS"
  echo "| sequential (1 at a time) | $(rps "$WORK/seq-direct.txt") / $(rps "$WORK/seq-sidecar.txt") | $(pct 50 "$WORK/seq-direct.txt") | $(pct 50 "$WORK/seq-sidecar.txt") | **$(awk -v a="$(pct 50 "$WORK/seq-sidecar.txt")" -v b="$(pct 50 "$WORK/seq-direct.txt")" 'BEGIN{printf "%.3f", a-b}')** | $(pct 99 "$WORK/seq-direct.txt") | $(pct 99 "$WORK/seq-sidecar.txt") | **$(awk -v a="$(pct 99 "$WORK/seq-sidecar.txt")" -v b="$(pct 99 "$WORK/seq-direct.txt")" 'BEGIN{printf "%.3f", a-b}')** | $(errors "$WORK/seq-sidecar.txt") | |"
  echo
  echo "hey reports latencies in steps of 0.1 ms."
  echo
  echo "## Against nginx (the same job, the same run)"
  echo
  echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), \`worker_processes auto\`, keep-alive upstream (64 idle connections), no buffering, access log off."
  echo "Target (DESIGN.md): the sidecar no worse than 1.5x nginx. Ratio = sidecar latency / nginx latency at the same rate."
  echo
  echo "| rate (req/s) | achieved nginx | p50 nginx (ms) | p50 sidecar (ms) | p50 ratio | p99 nginx (ms) | p99 sidecar (ms) | p99 ratio | p50 added nginx / sidecar (ms) | nginx non-200 |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
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
