#!/usr/bin/env bash
# Footprint and startup of the sidecar (#24) under several JVM option sets and runtimes, run
# interleaved (round 1: every set, round 2: every set, ...), against the provider simulator:
#   - spawn -> first 200: from starting `java` until a chat completion through the sidecar answers
#     200 (polled every 20 ms), and that first call's own time (the warm-up penalty);
#   - the CPU the process used until that first 200, and the JIT compiler threads' part of it;
#   - RSS idle: after the first 200, 200 more calls (OpenAI and Anthropic, whole and streamed) and
#     3 s of idle; split into anonymous memory (RssAnon: private, never reclaimed without swap, what
#     a pod is always charged for) and file-backed pages (RssFile: libjvm, the JDK's modules file and
#     the clean pages of the class-data archive; page cache, shared by the pods of a node that run
#     the same image, reclaimable), and the archive mapping's private dirty part (pages the JVM
#     wrote, e.g. when it relocates the archive to a random address);
#   - RSS with 200 open streams: 200 concurrent streams held open by a slow simulator (100 tokens at
#     20 tokens/s, 5 s each), the highest RSS sampled every 0.2 s, and how many answered 200;
#   - then, once per set, a diagnostic run with Native Memory Tracking and -Xlog:class+load: the
#     JVM's own account (NMT summary) and the classes loaded, by library.
# Sets with a class-data archive (AppCDS on 17, the AOT cache on 25) first make it with a training
# run (`--train`, as the image build does) in the work directory.
# Loopback only, bounded, stops by itself.
#
# usage: bench/footprint.sh [rounds (default 3)] [set ...]
#   sets: 17 (Java 17, jvm.options), 17-cds (+ AppCDS), 25 (Temurin 25, jvm.options),
#         25-aot (+ AOT cache), 25-coh (jvm.options + jvm-25.options: compact object headers),
#         25-image (jvm.options + jvm-25.options + AOT cache: what the container image runs),
#         25-fixed (25-image with the AOT cache mapped at its fixed address, no relocation:
#         -XX:ArchiveRelocationMode=0), or
#         NAME=JAVA_HOME:OPTIONS_FILE[:cds|aot] for any other combination.
#   default: 17 25-image (Java 17 with jvm.options, and what the container image runs)
# env: JAVA17 (default /usr/lib/jvm/java-17-openjdk-amd64), JAVA25 (default
#   /usr/lib/jvm/temurin-25-jdk-amd64), OUT (default bench/results/footprint.md)
# appends the run to bench/results/footprint.md (earlier runs and their readings stay above it)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
shift || true
SETS=("$@")
[ ${#SETS[@]} -gt 0 ] || SETS=(17 25-image)
JAVA17=${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64}
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64}
SIM_PORT=${SIM_PORT:-19391}
SLOW_SIM_PORT=${SLOW_SIM_PORT:-19392}
SIDECAR_PORT=${SIDECAR_PORT:-14391}
HEALTH_PORT=${HEALTH_PORT:-14392}
JAR="$ROOT/sidecar-proxy/target/tollgate-sidecar.jar"
SIM_JAR="$ROOT/simulator/target/tollgate-simulator.jar"
OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options"
OPTIONS_25="$OPTIONS $ROOT/sidecar-proxy/src/main/jvm/jvm-25.options"
OUT=${OUT:-$ROOT/bench/results/footprint.md}

if [ ! -f "$JAR" ] || [ ! -f "$SIM_JAR" ]; then
  (cd "$ROOT" && mvn -B -q -o -pl sidecar-proxy,simulator -am package -DskipTests)
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

now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() { # url, max seconds
  for _ in $(seq 1 $(($2 * 20))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}
rss_mib() { awk '/VmRSS/ {printf "%.1f\n", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
status_mib() { awk -v k="$2:" '$1 == k {printf "%.1f\n", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
# private dirty MiB of the class-data archive's mappings (.jsa or .aot)
archive_dirty_mib() {
  awk '/^[0-9a-f]+-/ {m = ($NF ~ /\.(jsa|aot)$/)} m && $1 == "Private_Dirty:" {s += $2}
    END {printf "%.1f\n", s / 1024}' "/proc/$1/smaps" 2>/dev/null || echo 0
}
# CPU ms used by the process so far, and by its JIT compiler threads ("total compilers")
cpu_ms() {
  local total=0 jit=0 t c v
  total=$(awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for t in /proc/"$1"/task/*; do
    c=$(cat "$t/comm" 2>/dev/null) || continue
    case "$c" in
      C1\ Compiler* | C2\ Compiler*)
        v=$(awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "$t/stat" 2>/dev/null || echo 0)
        jit=$((jit + ${v%.*}))
        ;;
    esac
  done
  echo "${total%.*} $jit"
}
# shellcheck disable=SC2086
options_of() { cat $1 | grep -v '^\s*#' | grep -v '^\s*$'; } # one or more files

echo "starting two simulators (8 tokens at once; 100 tokens at 20 tokens/s)"
java -XX:+UseSerialGC -Xmx256m -jar "$SIM_JAR" --port "$SIM_PORT" --threads 1 --output-tokens 8 \
  >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
java -XX:+UseSerialGC -Xmx256m -jar "$SIM_JAR" --port "$SLOW_SIM_PORT" --threads 1 \
  --output-tokens 100 --tps 20 >"$WORK/slow-sim.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SIM_PORT/v1/models" 30
wait_for "http://127.0.0.1:$SLOW_SIM_PORT/v1/models" 30

echo "bench-key" >"$WORK/api-key"
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: fast
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
  - model: slow
    tiers:
      - name: main
        targets: [{credential: slow, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
  - {name: slow, provider: openai, endpoint: "http://127.0.0.1:$SLOW_SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML

CHAT='{"model":"fast","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}'
CHAT_STREAM='{"model":"fast","max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}'
MESSAGES='{"model":"fast","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}'
MESSAGES_STREAM='{"model":"fast","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
SLOW_STREAM='{"model":"slow","stream":true,"messages":[{"role":"user","content":"hi"}]}'
chat() { # body [path] -> "status seconds"
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -m 10 -H 'content-type: application/json' \
    -H 'anthropic-version: 2023-06-01' --data-binary "$1" \
    "http://127.0.0.1:$SIDECAR_PORT${2:-/v1/chat/completions}" 2>/dev/null || echo "000 0"
}

# set name -> "java_binary|options file|archive kind (none, cds, aot)|extra options"
describe() {
  case "$1" in
    17) echo "$JAVA17/bin/java|$OPTIONS|none|" ;;
    17-cds) echo "$JAVA17/bin/java|$OPTIONS|cds|" ;;
    25) echo "$JAVA25/bin/java|$OPTIONS|none|" ;;
    25-aot) echo "$JAVA25/bin/java|$OPTIONS|aot|" ;;
    25-coh) echo "$JAVA25/bin/java|$OPTIONS_25|none|" ;;
    25-image) echo "$JAVA25/bin/java|$OPTIONS_25|aot|" ;;
    25-fixed) echo "$JAVA25/bin/java|$OPTIONS_25|aot|-XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0" ;;
    *=*)
      local spec=${1#*=}
      IFS=: read -r home file kind <<<"$spec"
      echo "$home/bin/java|$file|${kind:-none}|"
      ;;
    *)
      echo "unknown set $1" >&2
      exit 2
      ;;
  esac
}
set_name() { echo "${1%%=*}"; }

# the JVM command line of a set (archive options included once the archive exists)
jvm_args() { # set
  IFS='|' read -r java file kind extra <<<"$(describe "$1")"
  local name
  name=$(set_name "$1")
  local args=("$java")
  mapfile -t opts < <(options_of "$file")
  args+=("${opts[@]}")
  [ -z "$extra" ] || args+=($extra)
  case "$kind" in
    cds) args+=("-XX:SharedArchiveFile=$WORK/$name.jsa") ;;
    aot) args+=("-XX:AOTCache=$WORK/$name.aot") ;;
  esac
  printf '%s\n' "${args[@]}"
}

train() { # set: makes its class-data archive as the image build does
  IFS='|' read -r java file kind extra <<<"$(describe "$1")"
  local name
  name=$(set_name "$1")
  mapfile -t opts < <(options_of "$file")
  [ -z "$extra" ] || opts+=($extra)
  case "$kind" in
    cds) opts+=("-XX:ArchiveClassesAtExit=$WORK/$name.jsa") ;;
    aot) opts+=("-XX:AOTCacheOutput=$WORK/$name.aot") ;;
    *) return 0 ;;
  esac
  echo "training run for $name ($kind)"
  local t0
  t0=$(now_ms)
  TOLLGATE_LOG_LEVEL=WARN "$java" "${opts[@]}" -jar "$JAR" --train >"$WORK/$name.train.log" 2>&1 ||
    { cat "$WORK/$name.train.log" >&2; exit 1; }
  echo "  $(($(now_ms) - t0)) ms; archive $(du -h "$WORK/$name".{jsa,aot} 2>/dev/null | cut -f1 | head -1)"
}

start_sidecar() { # set, extra JVM options... -> pid in SIDECAR_PID
  local s=$1
  shift
  mapfile -t cmd < <(jvm_args "$s")
  TOLLGATE_LOG_LEVEL=WARN TOLLGATE_HEALTH_PORT=$HEALTH_PORT TOLLGATE_HEALTH_BIND=127.0.0.1 \
    "${cmd[0]}" "${cmd[@]:1}" "$@" -jar "$JAR" --config "$WORK/config.yaml" \
    >"$WORK/sidecar.log" 2>&1 &
  SIDECAR_PID=$!
  PIDS+=($SIDECAR_PID)
}
stop_sidecar() {
  kill "$SIDECAR_PID" 2>/dev/null || true
  wait "$SIDECAR_PID" 2>/dev/null || true
}

measure() { # set, round -> one line of results
  local s=$1 round=$2 t0 first status secs cpu=0 jit=0
  t0=$(now_ms)
  start_sidecar "$s"
  first=""
  for _ in $(seq 1 1500); do # 30 s
    read -r status secs <<<"$(chat "$CHAT")"
    if [ "$status" = 200 ]; then
      first=$(($(now_ms) - t0))
      read -r cpu jit <<<"$(cpu_ms "$SIDECAR_PID")"
      break
    fi
    sleep 0.02
  done
  if [ -z "$first" ]; then
    echo "set $s did not answer within 30 s; its log:" >&2
    tail -20 "$WORK/sidecar.log" >&2
    stop_sidecar
    return 1
  fi
  local first_call_ms
  first_call_ms=$(awk -v s="$secs" 'BEGIN {printf "%.0f", s * 1000}')
  # the first calls of each kind, then more of them
  local second_ms
  second_ms=$(chat "$CHAT" | awk '{printf "%.1f", $2 * 1000}')
  for _ in $(seq 1 50); do
    chat "$CHAT" >/dev/null
    chat "$CHAT_STREAM" >/dev/null
    chat "$MESSAGES" /v1/messages >/dev/null
    chat "$MESSAGES_STREAM" /v1/messages >/dev/null
  done
  sleep 3
  local idle anon file dirty
  idle=$(rss_mib "$SIDECAR_PID")
  anon=$(status_mib "$SIDECAR_PID" RssAnon)
  file=$(status_mib "$SIDECAR_PID" RssFile)
  dirty=$(archive_dirty_mib "$SIDECAR_PID")
  hey -n 200 -c 200 -t 60 -m POST -T application/json -d "$SLOW_STREAM" \
    "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions" >"$WORK/streams.txt" 2>&1 &
  local hey_pid=$! peak=0 r
  while kill -0 $hey_pid 2>/dev/null; do
    r=$(rss_mib "$SIDECAR_PID")
    peak=$(awk -v a="$r" -v b="$peak" 'BEGIN {print (a > b) ? a : b}')
    sleep 0.2
  done
  local ok
  ok=$(awk '/\[200\]/ {print $2}' "$WORK/streams.txt")
  sleep 2
  local after
  after=$(rss_mib "$SIDECAR_PID")
  stop_sidecar
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(set_name "$s")" "$round" \
    "$first" "$first_call_ms" "$second_ms" "$idle" "$peak" "${ok:-0}" "$after" "$anon" "$file" \
    "$dirty" "$cpu" "$jit"
}

diagnose() { # set: NMT summary and classes by library, in $WORK/<name>.nmt and .classes
  local s=$1 name
  name=$(set_name "$s")
  start_sidecar "$s" -XX:NativeMemoryTracking=summary "-Xlog:class+load=info:file=$WORK/$name.cl"
  wait_for "http://127.0.0.1:$SIDECAR_PORT/readyz" 30 || return 0
  for _ in $(seq 1 50); do
    chat "$CHAT" >/dev/null
    chat "$CHAT_STREAM" >/dev/null
    chat "$MESSAGES" /v1/messages >/dev/null
    chat "$MESSAGES_STREAM" /v1/messages >/dev/null
  done
  sleep 3
  echo "RSS $(rss_mib "$SIDECAR_PID") MiB (with NMT)" >"$WORK/$name.nmt"
  jcmd "$SIDECAR_PID" VM.native_memory summary >>"$WORK/$name.nmt" 2>&1 || true
  pmap -x "$SIDECAR_PID" >"$WORK/$name.pmap" 2>&1 || true
  jcmd "$SIDECAR_PID" Thread.print 2>/dev/null | grep -o '^"[^"]*"' | tr -d '"' >"$WORK/$name.threads" || true
  stop_sidecar
  {
    echo "total $(wc -l <"$WORK/$name.cl")"
    echo "from the class-data archive $(grep -c 'shared objects file\|source: shared' "$WORK/$name.cl" || true)"
    for p in dev.tollgate com.fasterxml.jackson ch.qos.logback net.logstash io.netty \
      io.prometheus io.opentelemetry io.lettuce io.github.bucket4j com.google software.amazon \
      io.github.resilience4j com.github.benmanes org.yaml sun.security java.net.http jdk.internal.net.http \
      com.sun.org.apache.xerces; do
      echo "$p $(grep -c " $p\." "$WORK/$name.cl" || true)"
    done
  } >"$WORK/$name.classes"
}

for s in "${SETS[@]}"; do train "$s"; done
: >"$WORK/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SETS[@]}"; do
    echo "round $round: $(set_name "$s")"
    measure "$s" "$round" | tee -a "$WORK/results.tsv" || true
  done
done
for s in "${SETS[@]}"; do
  echo "diagnostic run: $(set_name "$s")"
  diagnose "$s"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
range() { sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }
col() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n {print $c}' "$WORK/results.tsv"; }

{
  echo "# Sidecar footprint and startup"
  echo
  echo "Run \`bench/footprint.sh $ROUNDS ${SETS[*]}\` on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared with other work"
  echo "(load average before: $LOAD_BEFORE; after: $LOAD_AFTER). Option sets run interleaved, $ROUNDS rounds; medians, with the range."
  echo
  echo "| set | JVM | options |"
  echo "|---|---|---|"
  for s in "${SETS[@]}"; do
    mapfile -t cmd < <(jvm_args "$s")
    v=$("${cmd[0]}" -version 2>&1 | head -1 | sed 's/"//g')
    echo "| $(set_name "$s") | $v | \`${cmd[*]:1}\` |" | sed "s|$WORK/||g"
  done
  echo
  echo "| set | spawn → first 200 (ms) | first call (ms) | second call (ms) | RSS idle (MiB) | RSS peak, 200 open streams (MiB) | streams 200 | RSS after streams (MiB) |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${SETS[@]}"; do
    n=$(set_name "$s")
    echo "| $n | $(col "$n" 3 | median) ($(col "$n" 3 | range)) | $(col "$n" 4 | median) | $(col "$n" 5 | median) | $(col "$n" 6 | median) ($(col "$n" 6 | range)) | $(col "$n" 7 | median) ($(col "$n" 7 | range)) | $(col "$n" 8 | median)/200 | $(col "$n" 9 | median) |"
  done
  echo
  echo "Targets (DESIGN.md): ready ≤ 1 s; RSS ≤ 64 MiB idle, ≤ 128 MiB with 200 streams."
  echo
  echo "RSS idle split (medians; /proc/<pid>/status and smaps) and the CPU of the start:"
  echo
  echo "| set | RSS idle (MiB) | anonymous: RssAnon (MiB) | file-backed: RssFile (MiB) | archive private dirty (MiB) | CPU to first 200 (ms) | of it JIT compiler threads (ms) |"
  echo "|---|---|---|---|---|---|---|"
  for s in "${SETS[@]}"; do
    n=$(set_name "$s")
    echo "| $n | $(col "$n" 6 | median) | $(col "$n" 10 | median) ($(col "$n" 10 | range)) | $(col "$n" 11 | median) | $(col "$n" 12 | median) | $(col "$n" 13 | median) ($(col "$n" 13 | range)) | $(col "$n" 14 | median) |"
  done
  echo
  echo "What the kubelet counts (the container's working set: cgroup memory less inactive page cache)"
  echo "is at least RssAnon: anonymous pages are private and stay (no swap). RssFile is page cache:"
  echo "charged to the first container on the node that read it, shared with the other pods running"
  echo "the same image layer, and dropped under memory pressure once inactive."
  echo
  echo "## Each run"
  echo
  echo '```'
  printf 'set\tround\tfirst200_ms\tfirst_call_ms\tsecond_call_ms\trss_idle\trss_streams\tstreams_ok\trss_after\trss_anon\trss_file\tarchive_dirty\tcpu_ms\tjit_ms\n'
  cat "$WORK/results.tsv"
  echo '```'
  for s in "${SETS[@]}"; do
    n=$(set_name "$s")
    echo
    echo "## $n: classes loaded and the JVM's own account (one run with NMT, after 200 calls)"
    echo
    echo '```'
    cat "$WORK/$n.classes" 2>/dev/null || true
    echo
    echo "threads $(wc -l <"$WORK/$n.threads" 2>/dev/null): $(tr '\n' ' ' <"$WORK/$n.threads" 2>/dev/null)"
    grep -E '^RSS|^Total|^ *malloc:|^ *mmap:|^-|classes #|thread #|\(stack:' "$WORK/$n.nmt" 2>/dev/null | sed 's/  */ /g' || true
    echo
    echo "largest mappings (pmap -x: size, RSS, dirty KiB)"
    sort -k3 -n -r "$WORK/$n.pmap" 2>/dev/null | grep -v '^total\|^Address' | head -12 |
      awk '{printf "%s %s %s %s\n", $2, $3, $4, $NF}' || true
    echo '```'
  done
} >"$WORK/run.md"
if [ -s "$OUT" ]; then
  printf '\n---\n\n' >>"$OUT"
fi
cat "$WORK/run.md" >>"$OUT"
cat "$WORK/run.md"
