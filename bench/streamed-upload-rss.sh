#!/usr/bin/env bash
# Memory during large passthrough uploads (#19): the sidecar, with the container's JVM options
# (sidecar-proxy/src/main/jvm/jvm.options: 96 MiB heap, 192 MiB pod limit), forwards multipart
# uploads to a provider simulator that counts and drops them, first of 20 MB, then of 200 MB (SIZES):
# the uploads stream through (the sidecar's request-body limit is 4 MiB), so the RSS, sampled
# every 0.1 s, must not grow with the size. Per size: ROUNDS uploads one at a time, then 2 at
# once; each answer's "bytes" is checked against what curl sent. One upload per size straight to
# the simulator gives the time without the sidecar.
# Loopback only, bounded, stops by itself.
#
# usage: bench/streamed-upload-rss.sh [rounds (default 3)] ; SIZES="20 200" (MB)
# writes bench/results/streamed-upload-rss.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
SIZES=${SIZES:-20 200}
SIM_PORT=${SIM_PORT:-19391}
SIDECAR_PORT=${SIDECAR_PORT:-14391}
OUT="$ROOT/bench/results/streamed-upload-rss.md"
LIMIT_MIB=192
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_init

start_simulator "$SIM_PORT" --threads 1

echo "bench-key" >"$WORK/api-key"
cat >"$WORK/config.yaml" <<YAML
namespace: bench
server:
  port: $SIDECAR_PORT
routes:
  - model: chat
    tiers:
      - name: main
        targets: [{credential: sim, model: gpt-4o-mini}]
credentials:
  - {name: sim, provider: openai, endpoint: "http://127.0.0.1:$SIM_PORT/v1", apiKeyFile: "$WORK/api-key"}
YAML

echo "starting the sidecar on :$SIDECAR_PORT with $(jvm_flags)"
export TOLLGATE_LOG_LEVEL=WARN
start_sidecar_with "$SIDECAR_PORT" "$WORK/config.yaml"

alive() { kill -0 "$SIDECAR_PID" 2>/dev/null; }
rss() { # the sidecar's RSS in MiB and a newline, or "-" once it is gone
  if alive; then echo "$(rss_mib "$SIDECAR_PID")"; else echo "-"; fi
}

upload() { # base url, label -> "label seconds http bytes-received"
  curl -s -m 600 -o "$WORK/answer-$2.json" -w "$2 %{time_total} %{http_code} %{size_upload}\n" \
    -H 'authorization: Bearer app-key' -F purpose=batch -F "file=@$WORK/upload.bin" "$1/v1/files" ||
    echo "$2 - 000 0"
  echo "$2 bytes $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bytes", "-"))' \
    "$WORK/answer-$2.json" 2>/dev/null || echo -)" >>"$WORK/received"
}

: >"$WORK/rss"
: >"$WORK/received"
sampler() {
  while alive; do
    rss >>"$WORK/rss"
    sleep 0.1
  done
}
RSS_START=$(rss)
sampler &
PIDS+=($!)

: >"$WORK/phases"
for MB in $SIZES; do
  head -c "$((MB * 1024 * 1024))" /dev/urandom >"$WORK/upload.bin"
  FROM=$(wc -l <"$WORK/rss")
  echo "$MB MB: straight to the simulator (no sidecar)"
  upload "http://127.0.0.1:$SIM_PORT" "${MB}MB-direct" >>"$WORK/times"
  for r in $(seq 1 "$ROUNDS"); do
    echo "$MB MB: upload $r/$ROUNDS through the sidecar, RSS $(rss) MiB"
    upload "http://127.0.0.1:$SIDECAR_PORT" "${MB}MB-one-$r" >>"$WORK/times"
  done
  echo "$MB MB: 2 uploads at once through the sidecar"
  upload "http://127.0.0.1:$SIDECAR_PORT" "${MB}MB-two-a" >>"$WORK/times" &
  A=$!
  upload "http://127.0.0.1:$SIDECAR_PORT" "${MB}MB-two-b" >>"$WORK/times" &
  B=$!
  wait $A $B || true
  sleep 1
  PHASE_MAX=$(tail -n +"$((FROM + 1))" "$WORK/rss" | awk 'BEGIN {m = 0} $1 != "-" && $1 > m {m = $1} END {print m}')
  echo -e "$MB MB uploads\t$PHASE_MAX\t$(rss)" >>"$WORK/phases"
done
RSS_END=$(rss)
ALIVE=$(alive && echo yes || echo "no (see its log)")
RSS_MAX=$(awk 'BEGIN {m = 0} $1 != "-" && $1 > m {m = $1} END {print m}' "$WORK/rss")
SAMPLES=$(wc -l <"$WORK/rss")
VERDICT=$(awk -v m="$RSS_MAX" -v l=$LIMIT_MIB 'BEGIN {print (m < l) ? "under" : "OVER"}')
ERRORS=$(curl -s "http://127.0.0.1:$SIDECAR_PORT/metrics" | grep '^tollgate_errors_total{' |
  sed -E 's/.*kind="([^"]*)".*route="([^"]*)".* ([0-9.eE+]+)$/\2 \1: \3/' | tr '\n' ';' | sed 's/;$//' || true)

{
  echo "# RSS during streamed passthrough uploads"
  echo
  echo "Run \`bench/streamed-upload-rss.sh $ROUNDS\` (SIZES=\"$SIZES\" MB) on $(date -u +%Y-%m-%d), $(nproc) cores shared with other work (load average before: $LOAD_BEFORE)."
  echo
  echo "- sidecar: \`sidecar-proxy/target/tollgate-sidecar.jar\` with \`src/main/jvm/jvm.options\` ($(jvm_flags)); request-body limit 4 MiB (default), passthrough cap 512 MiB (default)"
  echo "- each upload: \`curl -F file=@upload.bin\` of SIZE MiB of random data to \`POST /v1/files\` (multipart), forwarded to the simulator, which counts the bytes and drops them"
  echo
  echo "| upload | seconds | HTTP | multipart bytes sent by curl | bytes the provider got (its answer) |"
  echo "|---|---|---|---|---|"
  while read -r label secs code sent; do
    got=$(awk -v l="$label" '$1 == l {print $3}' "$WORK/received")
    echo "| $label | $secs | $code | $sent | $got |"
  done <"$WORK/times"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| RSS at start | $RSS_START MiB |"
  awk -F'\t' '{printf "| RSS maximum during the %s / after them | %s MiB / %s MiB |\n", $1, $2, $3}' "$WORK/phases"
  echo "| RSS maximum ($SAMPLES samples, every 0.1 s) | $RSS_MAX MiB: $VERDICT the $LIMIT_MIB MiB limit |"
  echo "| RSS at the end | $RSS_END MiB |"
  echo "| errors by route and kind (\`tollgate_errors_total\`) | ${ERRORS:-none} |"
  echo "| sidecar alive at the end | $ALIVE |"
  echo
  echo "The body never sits in memory: compare the RSS maximum of the two sizes (ten times the"
  echo "bytes). Before streaming, any upload over server.maxRequestBodyBytes (4 MiB) was answered"
  echo "413, and a 200 MB body could not have been held in the 96 MiB heap at all."
} >"$OUT"
cat "$OUT"
