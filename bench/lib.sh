# Shared setup of the sidecar benchmarks (sourced, not run): a work directory cleaned up on exit,
# the provider simulator, the sidecar with the container's JVM options, nginx as a keep-alive reverse
# proxy, and CPU/RSS read from /proc. Everything listens on loopback.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init                          # ROOT, WORK, PIDS, cleanup trap, LOAD_BEFORE
#   start_simulator PORT [args...]      # SIM_PID (default args: --threads 1 --output-tokens 8)
#   start_sidecar PORT SIM_PORT [jar] [java args...]   # SIDECAR_PID, READY_MS
#   start_sidecar_with PORT CONFIG [jar] [java args...] # the same on a configuration of one's own
#   jvm_flags                           # the sidecar's JVM options ($JVM_OPTIONS) on one line
#   start_nginx PORT UPSTREAM_PORT      # NGINX_PID (the master; workers are its children)
#   cpu_ticks PID                       # user+system ticks of PID and its children now
#   rss_mib PID                         # resident set of PID and its children, MiB
#   ab_window NAME PID PORT SECONDS BODY RATE  # one measured window of an A/B bench

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
JAR=${JAR:-"$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"}
SIM_JAR=${SIM_JAR:-"$ROOT/simulator/target/tollgate-simulator.jar"}
# The same JVM options as the container image (sidecar-proxy/Dockerfile).
JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options"
TICKS=$(getconf CLK_TCK)

bench_init() {
  if ! command -v hey >/dev/null; then
    apt-get install -y hey >/dev/null || { apt-get update -qq && apt-get install -y hey >/dev/null; }
  fi
  if [ ! -f "$JAR" ] || [ ! -f "$SIM_JAR" ]; then
    (cd "$ROOT" && mvn -B -q -pl sidecar-proxy,simulator -am package -DskipTests)
  fi
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  WORK=$(mktemp -d)
  PIDS=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

need_nginx() {
  if ! command -v nginx >/dev/null; then
    apt-get install -y nginx-light >/dev/null 2>&1 || apt-get install -y nginx >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y nginx >/dev/null; }
  fi
}

wait_for() { # url, max seconds
  for _ in $(seq 1 $(($2 * 20))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# The process and its descendants.
proc_tree() {
  local p=$1 c
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do proc_tree "$c"; done
}

cpu_ticks() { # user+system CPU ticks of a process and its descendants, now
  local t=0 p
  for p in $(proc_tree "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

rss_mib() { # resident set of a process and its descendants, MiB
  local k=0 p
  for p in $(proc_tree "$1"); do
    k=$((k + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  awk -v k="$k" 'BEGIN{printf "%.1f", k/1024}'
}

start_simulator() { # port [simulator args (default: --threads 1 --output-tokens 8)]
  local port=$1
  shift
  [ $# -gt 0 ] || set -- --threads 1 --output-tokens 8
  java -XX:+UseSerialGC -Xmx256m -jar "$SIM_JAR" --port "$port" "$@" >"$WORK/sim-$port.log" 2>&1 &
  SIM_PID=$!
  PIDS+=($SIM_PID)
  wait_for "http://127.0.0.1:$port/v1/models" 20
}

# The sidecar with one route "bench" to the simulator's gpt-4o-mini, its call log at INFO to a file
# (as in production, where it goes to stdout). JAVA picks another runtime; JVM_OPTIONS may name
# several option files, separated by spaces.
start_sidecar() { # port sim-port [jar] [extra java args]
  local port=$1 sim=$2 jar=${3:-$JAR}
  shift $(($# < 3 ? $# : 3))
  mkdir -p "$WORK/sidecar-$port"
  echo "bench-key" >"$WORK/sidecar-$port/api-key"
  cat >"$WORK/sidecar-$port/config.yaml" <<YAML
namespace: bench
server:
  port: $port
routes:
  - model: bench
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$sim/v1", apiKeyFile: "$WORK/sidecar-$port/api-key"}
YAML
  local start f opts=()
  for f in $JVM_OPTIONS; do opts+=("@$f"); done
  start=$(date +%s%N)
  "${JAVA:-java}" "${opts[@]}" "$@" -jar "$jar" --config "$WORK/sidecar-$port/config.yaml" \
    >"$WORK/sidecar-$port.log" 2>&1 &
  SIDECAR_PID=$!
  PIDS+=($SIDECAR_PID)
  wait_for "http://127.0.0.1:$port/readyz" 30
  READY_MS=$((($(date +%s%N) - start) / 1000000))
}

# The sidecar on a configuration file of the benchmark's own (its routes and credentials; its
# server.port must be PORT), for failover.sh, large-bodies-rss.sh and streamed-upload-rss.sh.
# JVM_OPTIONS may name several option files, separated by spaces (a later one wins); JAVA picks
# another runtime; TOLLGATE_LOG_LEVEL, when exported, sets the log level.
start_sidecar_with() { # port config-file [jar] [extra java args]
  local port=$1 config=$2 jar=${3:-$JAR} f start
  shift $(($# < 3 ? $# : 3))
  local opts=()
  for f in $JVM_OPTIONS; do opts+=("@$f"); done
  start=$(date +%s%N)
  "${JAVA:-java}" "${opts[@]}" "$@" -jar "$jar" --config "$config" >"$WORK/sidecar-$port.log" 2>&1 &
  SIDECAR_PID=$!
  PIDS+=($SIDECAR_PID)
  wait_for "http://127.0.0.1:$port/readyz" 30
  READY_MS=$((($(date +%s%N) - start) / 1000000))
}

jvm_flags() { # the options in the JVM_OPTIONS file(s), comments and blank lines left out, one line
  local f
  for f in $JVM_OPTIONS; do grep -v '^\s*#' "$f" | grep -v '^\s*$' || true; done | tr '\n' ' ' |
    sed 's/ $//'
}

# nginx as the baseline: a keep-alive reverse proxy (64 idle upstream connections), no buffering,
# no access log, one worker per core.
start_nginx() { # port upstream-port
  need_nginx
  local d="$WORK/nginx-$1"
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  upstream simulator { server 127.0.0.1:$2; keepalive 64; }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
  nginx -p "$d" -c "$d/nginx.conf" &
  NGINX_PID=$!
  PIDS+=($NGINX_PID)
  wait_for "http://127.0.0.1:$1/v1/models" 20
}

# One measured window of an A/B bench (transport-ab.sh, runtime-ab.sh): hey at RATE for SECONDS
# against a sidecar on PORT with BODY; prints the answers, the process's CPU per answer (µs, the
# JIT's threads included), p50 and p99 (s) and the load average, labelled NAME.
ab_window() { # name pid port seconds body rate
  local t0 t1 ok p50 p99
  t0=$(awk '{print $14+$15}' "/proc/$2/stat")
  hey -z "$4s" -c 20 -q $(($6 / 20)) -m POST -T application/json -H "Authorization: Bearer bench-key" \
    -d "$5" "http://127.0.0.1:$3/v1/chat/completions" >"$WORK/hey.txt"
  t1=$(awk '{print $14+$15}' "/proc/$2/stat")
  ok=$(awk '/^ +\[200\]/ {print $2}' "$WORK/hey.txt")
  ok=${ok:-0}
  p50=$(awk '/ 50% in/ {print $3}' "$WORK/hey.txt")
  p99=$(awk '/ 99% in/ {print $3}' "$WORK/hey.txt")
  echo "$1 answered=$ok cpu_us_per_request=$(((t1 - t0) * 1000000 / TICKS / (ok > 0 ? ok : 1))) p50=$p50 p99=$p99 load=$(cut -d' ' -f1 /proc/loadavg)"
}

# The A/B benches' schedule: each side warmed WARM seconds, then ROUNDS rounds of one 10 s window
# per side, the order alternating each round; needs a run() { index seconds } of the caller's.
ab_rounds() {
  run 0 "$WARM" >/dev/null
  run 1 "$WARM" >/dev/null
  local r
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then run 0 10; run 1 10; else run 1 10; run 0 10; fi
  done
}

# An AOT cache from a training run (--train) of $JAR on JAVA with the option files in
# JVM_OPTIONS and any further options, as sidecar-proxy/Dockerfile builds it.
train_aot() { # cache-file [java args...]
  local out=$1 f opts=()
  shift
  for f in $JVM_OPTIONS; do opts+=("@$f"); done
  TOLLGATE_LOG_LEVEL=WARN "${JAVA:-java}" "${opts[@]}" "$@" -XX:AOTCacheOutput="$out" -jar "$JAR" \
    --train >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log" >&2; exit 1; }
}

# hey's output: "  50% in 0.0004 secs" -> ms; requests per second; answers 200; answers not 200
pct() { awk -v p="$1%" '$1==p && $2=="in" {printf "%.3f", $3*1000}' "$2"; }
rps() { awk '/Requests\/sec:/ {printf "%.0f", $2}' "$1"; }
ok() { awk '/\[200\]/ {print $2}' "$1"; }
errors() { awk '/Status code distribution:/{f=1;next} f && /\[/ {if ($1!="[200]") s+=$2} END {print s+0}' "$1"; }
