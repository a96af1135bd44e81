#!/usr/bin/env bash
# CPU and allocation profile of the sidecar at a fixed request rate, with JFR (built into the JDK; no
# agent to download): the simulator upstream, the sidecar with the container's JVM options and its
# per-call log line at INFO (to a file), a warm-up, then a recording under the same load. Prints the
# top frames (self and inclusive CPU samples, sampled allocation weight by site) as Markdown.
#
# usage: bench/profile.sh [rate (default 2000)] [warm-up seconds (default 30)] [recorded seconds (default 20)] [out.md]
# JAR=path/to/tollgate-sidecar.jar profiles another build (e.g. the one before a change);
# KEEP=dir keeps the recording and its JSON event files there, KEEP_JFR=path the recording alone;
# ASYNC_PROFILER=path/to/libasyncProfiler.so (from Maven tools.profiler:async-profiler, linux-x64 jar)
# adds an async-profiler CPU recording and then an allocation recording, SECS each, under the same
# load (JFR's execution sampler found almost no samples on this machine under load);
# STREAM=1 profiles streamed chat completions (stream_options.include_usage) instead of whole ones;
# the GC's pauses while recording (-Xlog:gc) are counted and summed (count, total, longest);
# the sidecar inherits the environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT).
set -euo pipefail

. "$(dirname "$0")/lib.sh"
RATE=${1:-2000}
WARM=${2:-30}
SECS=${3:-20}
OUT=${4:-/dev/stdout}
WORKERS=20
SIM_PORT=${SIM_PORT:-19181}
SIDECAR_PORT=${SIDECAR_PORT:-14181}
JFR_TOOL=${JFR_TOOL:-$(ls -d /usr/lib/jvm/temurin-25*/bin/jfr 2>/dev/null | head -1 || command -v jfr)}

bench_init
start_simulator "$SIM_PORT"
start_sidecar "$SIDECAR_PORT" "$SIM_PORT" "$JAR" -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
  "-Xlog:gc:file=$WORK/gc.log:uptimemillis"

if [ -n "${STREAM:-}" ]; then
  BODY='{"model":"bench","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
else
  BODY='{"model":"bench","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
fi
load() { # seconds
  hey -z "$1s" -c $WORKERS -q $(( RATE / WORKERS )) -m POST -T application/json \
    -H "Authorization: Bearer bench-key" -d "$BODY" "http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions"
}
echo "warming up for ${WARM}s at $RATE req/s" >&2
load "$WARM" >/dev/null
CPU0=$(cpu_ticks "$SIDECAR_PID")
GC0=$(wc -l <"$WORK/gc.log")
jcmd "$SIDECAR_PID" JFR.start name=p settings=profile filename="$WORK/p.jfr" >/dev/null
echo "recording for ${SECS}s at $RATE req/s" >&2
load "$SECS" >"$WORK/hey.txt"
jcmd "$SIDECAR_PID" JFR.stop name=p >/dev/null
if [ -n "${KEEP_JFR:-}" ]; then cp "$WORK/p.jfr" "$KEEP_JFR"; fi
CPU1=$(cpu_ticks "$SIDECAR_PID")
GC_PAUSES=$(tail -n +$((GC0 + 1)) "$WORK/gc.log" | grep -o 'Pause[^)]*) [0-9.>-]*M[^ ]* [0-9.]*ms' |
  awk '{ms=$NF; sub(/ms/,"",ms); n++; t+=ms; if (ms>m) m=ms} END {printf "%d pauses, %.1f ms in all, longest %.2f ms", n, t, m}')
if [ -n "${ASYNC_PROFILER:-}" ]; then
  for ev in cpu alloc; do # (jcmd takes the agent's options quoted, or splits them at "=")
    echo "async-profiler $ev for ${SECS}s at $RATE req/s" >&2
    if [ $ev = cpu ]; then opts="event=cpu,interval=${AP_INTERVAL:-1ms}"; else opts="event=alloc"; fi
    jcmd "$SIDECAR_PID" JVMTI.agent_load "$ASYNC_PROFILER" "\"start,$opts\"" >/dev/null
    load "$SECS" >"$WORK/hey-$ev.txt"
    if [ $ev = cpu ]; then opts=collapsed; else opts="collapsed,total"; fi
    jcmd "$SIDECAR_PID" JVMTI.agent_load "$ASYNC_PROFILER" "\"stop,$opts,file=$WORK/ap-$ev.txt\"" >/dev/null
  done
fi
N=$(awk '/\[200\]/ {print $2}' "$WORK/hey.txt")
for ev in jdk.ExecutionSample jdk.NativeMethodSample jdk.ObjectAllocationSample; do
  "$JFR_TOOL" print --stack-depth 64 --json --events "$ev" "$WORK/p.jfr" >"$WORK/$ev.json"
done
{
  echo "Command: \`${STREAM:+STREAM=1 }bench/profile.sh $RATE $WARM $SECS\` (${STREAM:+streamed; }JFR settings=profile, -XX:+DebugNonSafepoints;"
  echo "sidecar with \`sidecar-proxy/src/main/jvm/jvm.options\`, call log at INFO to a file). $(date -u +%FT%TZ),"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
  echo
  echo "Requests answered 200 while recording: $N; $(awk '/Requests\/sec:/ {print $2}' "$WORK/hey.txt") req/s;"
  echo "p50 $(awk '$1=="50%" {print $3*1000}' "$WORK/hey.txt") ms, p99 $(awk '$1=="99%" {print $3*1000}' "$WORK/hey.txt") ms (client side, through the sidecar)."
  awk -v a="$CPU0" -v b="$CPU1" -v t="$TICKS" -v n="$N" \
    'BEGIN{printf "Sidecar CPU while recording: %.2f s, **%.0f µs per request** (from /proc/PID/stat).\n", (b-a)/t, (b-a)/t/n*1e6}'
  echo "GC while recording: $GC_PAUSES (-Xlog:gc)."
  echo
  python3 "$ROOT/bench/jfr-top.py" "$WORK" "$N"
  if [ -n "${ASYNC_PROFILER:-}" ]; then
    python3 "$ROOT/bench/jfr-top.py" --collapsed "$WORK/ap-cpu.txt" "async-profiler CPU (event=cpu, ${AP_INTERVAL:-1ms}; samples)" \
      "$(awk '/\[200\]/ {print $2}' "$WORK/hey-cpu.txt")"
    python3 "$ROOT/bench/jfr-top.py" --collapsed "$WORK/ap-alloc.txt" "async-profiler allocation (event=alloc; bytes, total)" \
      "$(awk '/\[200\]/ {print $2}' "$WORK/hey-alloc.txt")"
  fi
} >"$OUT"
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$WORK"/*.json "$WORK"/ap-*.txt "$WORK/p.jfr" "$WORK/hey.txt" "$KEEP/"; fi
