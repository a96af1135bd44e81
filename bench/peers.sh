#!/usr/bin/env bash
# The sidecar beside its peers in one interleaved run: the provider simulator called directly, and
# through nginx (a keep-alive reverse proxy: the floor for any proxy), the Tollgate sidecar (the
# container's JVM options, its call log at INFO to a file) and the Portkey gateway (npm
# @portkey-ai/gateway, node, runs offline; installed into a temporary directory, or PORTKEY_DIR).
# Portkey 1.15.2 on node answers every streamed call 500 ("TypeError: immutable": it appends its
# headers to the upstream fetch Response, whose headers are immutable; Portkey-AI/gateway#1550,
# open; pinning @hono/node-server to 1.14.2 as in #1389 does not help): its streamed rows show the
# 500s as non-200 and no latency of a served stream.
# Each proxy is warmed up first (the sidecar for WARMUP seconds at the top rate: the JIT takes
# 20-30 s at 2,000 req/s). Then ROUNDS rounds of: non-streamed and streamed small chat completions
# (8 output tokens) at each rate with hey (-c 20 -q rate/20, keep-alive), every peer in turn, in an
# order that rotates each round. Per peer and step: hey's p50/p99, the CPU time of the peer's
# processes only (from /proc/PID/stat of the process and its children) in the measured window over
# the requests answered, RSS; added latency = the peer's percentile minus direct's in the same round.
# The table shows medians over the rounds and the ratios against nginx that issue #24's Done-when
# names (added p99 <= 1.5x nginx's, CPU per request <= 2x nginx's at 2,000 req/s).
#
# usage: bench/peers.sh [seconds per run (default 10)] [rates (default "500 1000 2000")] [rounds (default 3)]
# env: WARMUP (sidecar warm-up seconds, default 40), PEERS (default "direct nginx tollgate portkey"),
#      JAR (another sidecar build), OUT (default bench/results/peers.md), RAW (keep the raw runs there),
#      SIDECAR_RUNTIME (image, the default: Java 25 with jvm.options + jvm-25.options and an AOT cache
#      from a training run, as sidecar-proxy/Dockerfile runs it; 17: Java 17 with jvm.options),
#      JAVA25 (default /usr/lib/jvm/temurin-25-jdk-amd64/bin/java), SIDECAR_AOT (0: no AOT cache),
#      SIDECAR_OPTS (more JVM options for the sidecar, e.g. -XX:-UseCompactObjectHeaders)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
RATES=${2:-"500 1000 2000"}
ROUNDS=${3:-3}
WARMUP=${WARMUP:-40}
PEERS=${PEERS:-"direct nginx tollgate portkey"}
# image (default): the sidecar as its container runs it (Java 25, jvm.options + jvm-25.options, an
# AOT cache from a training run); 17: the build's Java 17 with jvm.options alone
SIDECAR_RUNTIME=${SIDECAR_RUNTIME:-image}
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SIDECAR_AOT=${SIDECAR_AOT:-1}   # 0: the image's runtime and options without the AOT cache
SIDECAR_OPTS=${SIDECAR_OPTS:-}  # more JVM options for the sidecar, after the option files
OUT=${OUT:-"$ROOT/bench/results/peers.md"}
WORKERS=20
SIM_PORT=${SIM_PORT:-19281}
NGINX_PORT=${NGINX_PORT:-15281}
SIDECAR_PORT=${SIDECAR_PORT:-14281}
PORTKEY_PORT=${PORTKEY_PORT:-18787}
TOP=$(echo "$RATES" | tr ' ' '\n' | sort -n | tail -1)

bench_init
need_nginx
has() { [[ " $PEERS " == *" $1 "* ]]; }

echo "starting the simulator on :$SIM_PORT"
start_simulator "$SIM_PORT"
declare -A PID URL BODY STREAM HDR RSS_IDLE RSS_MAX
BODY_PLAIN='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
STREAM_PLAIN='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
URL[direct]="http://127.0.0.1:$SIM_PORT/v1/chat/completions"
PID[direct]=$SIM_PID

if has nginx; then
  echo "starting nginx on :$NGINX_PORT"
  start_nginx "$NGINX_PORT" "$SIM_PORT"
  PID[nginx]=$NGINX_PID
  URL[nginx]="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
fi
if has tollgate; then
  SIDECAR_EXTRA=()
  if [ "$SIDECAR_RUNTIME" = image ]; then
    # as the container runs it (sidecar-proxy/Dockerfile): Java 25, both option files, and an AOT
    # cache written by a training run with the same runtime, options and jar
    [ -x "$JAVA25" ] || { echo "no Java 25 at $JAVA25: set JAVA25, or SIDECAR_RUNTIME=17" >&2; exit 1; }
    JAVA=$JAVA25
    JVM_OPTIONS="$ROOT/sidecar-proxy/src/main/jvm/jvm.options $ROOT/sidecar-proxy/src/main/jvm/jvm-25.options"
    echo "training run for the sidecar's AOT cache"
    if [ "$SIDECAR_AOT" = 1 ]; then
      train_aot "$WORK/sidecar.aot" $SIDECAR_OPTS
      SIDECAR_EXTRA=(-XX:AOTCache="$WORK/sidecar.aot")
    fi
  fi
  SIDECAR_EXTRA+=($SIDECAR_OPTS)
  echo "starting the sidecar on :$SIDECAR_PORT ($("${JAVA:-java}" -version 2>&1 | head -1))"
  start_sidecar "$SIDECAR_PORT" "$SIM_PORT" "$JAR" "${SIDECAR_EXTRA[@]}"
  PID[tollgate]=$SIDECAR_PID
  URL[tollgate]="http://127.0.0.1:$SIDECAR_PORT/v1/chat/completions"
  BODY[tollgate]=${BODY_PLAIN/gpt-4o-mini/bench}
  STREAM[tollgate]=${STREAM_PLAIN/gpt-4o-mini/bench}
  SIDECAR_READY_MS=$READY_MS
fi
if has portkey; then
  PORTKEY_DIR=${PORTKEY_DIR:-"$WORK/portkey"}
  if [ ! -f "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" ]; then
    echo "installing @portkey-ai/gateway into $PORTKEY_DIR"
    mkdir -p "$PORTKEY_DIR"
    (cd "$PORTKEY_DIR" && npm install --no-audit --no-fund --silent @portkey-ai/gateway >/dev/null)
  fi
  PORTKEY_VERSION=$(node -p "require('$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json').version")
  echo "starting the Portkey gateway $PORTKEY_VERSION on :$PORTKEY_PORT"
  (cd "$PORTKEY_DIR/node_modules/@portkey-ai/gateway" &&
    exec env NODE_ENV=production node build/start-server.js --port="$PORTKEY_PORT" --headless) \
    >"$WORK/portkey.log" 2>&1 &
  PID[portkey]=$!
  PIDS+=(${PID[portkey]})
  wait_for "http://127.0.0.1:$PORTKEY_PORT/" 30
  URL[portkey]="http://127.0.0.1:$PORTKEY_PORT/v1/chat/completions"
  HDR[portkey]="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$SIM_PORT/v1"
fi
sleep 1
for p in $PEERS; do
  RSS_IDLE[$p]=$(rss_mib "${PID[$p]}")
  RSS_MAX[$p]=${RSS_IDLE[$p]}
done

hey_run() { # peer mode rate seconds out
  local p=$1 body args=()
  if [ "$2" = streamed ]; then body=${STREAM[$p]:-$STREAM_PLAIN}; else body=${BODY[$p]:-$BODY_PLAIN}; fi
  if [ -n "${HDR[$p]:-}" ]; then
    IFS='|' read -ra hs <<<"${HDR[$p]}"
    for h in "${hs[@]}"; do args+=(-H "$h"); done
  fi
  hey -z "$4s" -c $WORKERS -q $(($3 / WORKERS)) -m POST -T application/json \
    -H "Authorization: Bearer bench-key" "${args[@]}" -d "$body" "${URL[$p]}" >"$5"
}

one() { "$@" 2>/dev/null | head -1 | tr -d '\t\r\n'; } # one field of a results line

echo "warming up: the sidecar ${WARMUP}s non-streamed at $TOP req/s and 10s streamed; the others 10s"
for p in $PEERS; do
  case $p in
    tollgate)
      hey_run "$p" non-streamed "$TOP" "$WARMUP" "$WORK/warm-$p.txt"
      hey_run "$p" streamed "$TOP" 10 "$WORK/warm-$p-s.txt"
      ;;
    *)
      hey_run "$p" non-streamed "$TOP" 5 "$WORK/warm-$p.txt"
      hey_run "$p" streamed "$TOP" 5 "$WORK/warm-$p-s.txt"
      ;;
  esac
done

# one line per measured run: round mode rate peer rps p50 p99 answered200 non200 cpu-ticks load1
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
read -ra ORDER <<<"$PEERS"
for round in $(seq 1 "$ROUNDS"); do
  for mode in non-streamed streamed; do
    for rate in $RATES; do
      echo "round $round, $mode, $rate req/s: ${ORDER[*]}"
      for p in "${ORDER[@]}"; do
        f="$WORK/r$round-$mode-$rate-$p.txt"
        load1=$(cut -d' ' -f1 /proc/loadavg)
        t0=$(cpu_ticks "${PID[$p]}")
        hey_run "$p" "$mode" "$rate" "$DURATION" "$f"
        t1=$(cpu_ticks "${PID[$p]}")
        r=$(rss_mib "${PID[$p]}")
        RSS_MAX[$p]=$(awk -v a="$r" -v b="${RSS_MAX[$p]}" 'BEGIN{print (a>b)?a:b}')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$rate" "$p" \
          "$(one rps "$f")" "$(one pct 50 "$f")" "$(one pct 99 "$f")" "$(one ok "$f")" \
          "$(one errors "$f")" $((t1 - t0)) "$load1" >>"$RESULTS"
        [ -z "${RAW:-}" ] || cp "$RESULTS" "$RAW"
      done
    done
  done
  ORDER=("${ORDER[@]:1}" "${ORDER[0]}") # rotate: each peer runs first once in a while
done

RSS_TSV="$WORK/rss.tsv"
: >"$RSS_TSV"
for p in $PEERS; do printf '%s\t%s\t%s\n' "$p" "${RSS_IDLE[$p]}" "${RSS_MAX[$p]}" >>"$RSS_TSV"; done
CPU_NAME=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Tollgate beside its peers (issue #24)"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($CPU_NAME), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(java -version 2>&1 | head -1)"
  echo "- command: \`WARMUP=$WARMUP bench/peers.sh $DURATION \"$RATES\" $ROUNDS\` (peers: $PEERS)"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg); the simulator, the peers and hey share these cores"
  echo "- load: \`hey -z ${DURATION}s -c $WORKERS -q <rate/$WORKERS>\`, keep-alive, POST of a small chat completion (8 output tokens), non-streamed and streamed (8 chunks, the usage chunk, [DONE], unpaced)"
  echo "- peers: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') (\`worker_processes auto\`, keep-alive upstream, no buffering, no access log);"
  echo "  Tollgate sidecar ($("${JAVA:-java}" -version 2>&1 | head -1); \`$(jvm_flags)$([ "$SIDECAR_RUNTIME" = image ] && [ "$SIDECAR_AOT" = 1 ] && echo " -XX:AOTCache=<training run>")${SIDECAR_OPTS:+ $SIDECAR_OPTS}\`, ready in ${SIDECAR_READY_MS:-?} ms, call log at INFO to a file);"
  echo "  Portkey gateway ${PORTKEY_VERSION:-not run} (node $(node --version 2>/dev/null), NODE_ENV=production, --headless, x-portkey-custom-host to the simulator)"
  echo "- warm-up before measuring: the sidecar ${WARMUP} s non-streamed at $TOP req/s and 10 s streamed; the others 5 s each"
  echo
  python3 - "$RESULTS" "$RSS_TSV" "$TICKS" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
bad_rows = [r for r in rows if len(r) != 11]
rows = [r for r in rows if len(r) == 11]
if bad_rows:
    print(f"{len(bad_rows)} run line(s) could not be read and are left out: {bad_rows}\n")
rss = {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(sys.argv[2]) if l.strip()}
ticks = float(sys.argv[3])
runs = {}
for rnd, mode, rate, peer, rps, p50, p99, ok, bad, cpu, load1 in rows:
    runs[(rnd, mode, int(rate), peer)] = dict(rps=float(rps or 0), p50=float(p50 or "nan"),
        p99=float(p99 or "nan"), ok=int(ok or 0), bad=int(bad or 0), cpu=int(cpu), load1=float(load1))
peers = list(dict.fromkeys(k[3] for k in runs))
modes = list(dict.fromkeys(k[1] for k in runs))
rates = sorted({k[2] for k in runs})
rounds = sorted({k[0] for k in runs})
med = lambda xs: statistics.median(xs) if xs else float("nan")
def stats(mode, rate, peer):
    a50, a99, cpu, rps, p50, p99, bad, load = [], [], [], [], [], [], 0, []
    for r in rounds:
        x, d = runs.get((r, mode, rate, peer)), runs.get((r, mode, rate, "direct"))
        if not x:
            continue
        p50.append(x["p50"]); p99.append(x["p99"]); rps.append(x["rps"]); bad += x["bad"]; load.append(x["load1"])
        if d:
            a50.append(x["p50"] - d["p50"]); a99.append(x["p99"] - d["p99"])
        if x["ok"]:
            cpu.append(x["cpu"] / ticks / x["ok"] * 1e6)
    return dict(a50=med(a50), a99=med(a99), cpu=med(cpu), rps=med(rps), p50=med(p50), p99=med(p99),
                bad=bad, load=(min(load), max(load)) if load else (0, 0),
                a99s=a99, cpus=cpu)
f = lambda v, n=2: "n/a" if v != v else f"{v:.{n}f}"
ratio = lambda a, b: "n/a" if not (b == b and b > 0 and a == a) else f"{a / b:.2f}"
print(f"Medians over {len(rounds)} rounds. Added = the peer's percentile minus direct's in the same round and step."
      " CPU per request = the peer's user+system CPU in the measured window / requests answered 200 (direct: the simulator's).\n")
for mode in modes:
    print(f"## {mode}\n")
    print("| rate (req/s) | peer | achieved req/s | p50 / p99 (ms) | added p50 / p99 (ms) | CPU per request (µs) | added p99 vs nginx | CPU vs nginx | non-200 | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rate in rates:
        ng = stats(mode, rate, "nginx") if "nginx" in peers else None
        for peer in peers:
            s = stats(mode, rate, peer)
            rv = ratio(s["a99"], ng["a99"]) if ng and peer not in ("direct", "nginx") else ""
            rc = ratio(s["cpu"], ng["cpu"]) if ng and peer not in ("direct", "nginx") else ""
            added = "" if peer == "direct" else f"{f(s['a50'])} / {f(s['a99'])}"
            print(f"| {rate} | {peer} | {s['rps']:.0f} | {f(s['p50'])} / {f(s['p99'])} | {added} | {f(s['cpu'], 0)} | {rv} | {rc} | {s['bad']} | {s['load'][0]:.1f}–{s['load'][1]:.1f} |")
    print()
print("| peer | RSS after start (MiB) | RSS highest after a run (MiB) |")
print("|---|---|---|")
for p in peers:
    if p in rss:
        print(f"| {p}{' (the simulator)' if p == 'direct' else ''} | {rss[p][0]} | {rss[p][1]} |")
print()
top = rates[-1]
if "nginx" in peers and "tollgate" in peers:
    print(f"## Done-when of issue #24 at {top} req/s (this run)\n")
    print("| mode | Tollgate added p99 / nginx's | target | Tollgate CPU per request / nginx's | target | per round (added p99 ratio / CPU ratio) |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        t, n = stats(mode, top, "tollgate"), stats(mode, top, "nginx")
        per = ", ".join(
            f"round {i + 1}: {ratio(a, b)} / {ratio(c, d)}"
            for i, (a, b, c, d) in enumerate(zip(t["a99s"], n["a99s"], t["cpus"], n["cpus"])))
        print(f"| {mode} | {ratio(t['a99'], n['a99'])} | ≤ 1.5 | {ratio(t['cpu'], n['cpu'])} | ≤ 2 | {per} |")
    print()
if any(runs[k]["bad"] for k in runs if k[3] == "portkey" and k[1] == "streamed"):
    print("Portkey's streamed calls failed (500, `TypeError: immutable` in its updateHeaders on node:"
          " Portkey-AI/gateway#1550); its streamed figures are those of the failures, not of streams.\n")
print("hey reports latencies in steps of 0.1 ms, so an added p50 near 0 is within its resolution;"
      " a ratio of two small added latencies is noisy: read it with the absolute figures.")
PY
  echo
  echo "Raw runs (round, mode, rate, peer, req/s, p50 ms, p99 ms, 200s, non-200s, CPU ticks at $TICKS/s, load avg 1 min):"
  echo
  echo '```'
  cat "$RESULTS"
  echo '```'
} >"$OUT"
cat "$OUT"
