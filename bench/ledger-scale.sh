#!/usr/bin/env bash
# Ledger scale benchmark (issue #17): simulated sidecars (in-process report clients handing reports
# to the operator's accounting, no proxies; or, for a scenario "<pods>x<namespaces>:https", POSTing
# them over HTTPS with a bearer token to the real report server, whose cached TokenReviewer asks
# the mock API server, which counts the TokenReviews) at 100 / 1,000 / 10,000 pods across 1, 10 and
# 100 namespaces, against fabric8's mock API server with the operator running. One JVM per
# scenario. Appends one table row per scenario to bench/out/ledger-scale-rows.md and writes
# bench/results/ledger-scale.md. Not a test: nothing here passes or fails on a number.
#   bench/ledger-scale.sh                       # all scenarios, 30 s measured each
#   SECONDS_PER_RUN=20 SCENARIOS="100x1 1000x1" bench/ledger-scale.sh
#   LABEL=before bench/ledger-scale.sh          # the label heads the table in the results file
#   SCENARIOS="1000x10:https" bench/ledger-scale.sh  # sidecars POST over HTTPS (TokenReviews measured)
#   SCENARIOS="10000x100:keyed" bench/ledger-scale.sh # an extra yardstick: the mock finds the object
#     a write replaces by name instead of scanning all it stores (rows marked "mock keyed by name")
#   JAVA_OPTS="-XX:StartFlightRecording=filename=bench/out/x.jfr" SCENARIOS=10000x100 bench/ledger-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_SECONDS=${SECONDS_PER_RUN:-30}
INTERVAL=${INTERVAL:-2s}
SCENARIOS=${SCENARIOS:-"100x1 1000x1 1000x100 10000x100 10000x10 10000x1"}
LABEL=${LABEL:-current}
mkdir -p bench/out bench/results

echo "== build (package only; nothing is installed into ~/.m2)"
# The test classpath as the compiler saw it (the dependency plugin is not in the offline ~/.m2):
# the operator's test-compile classpath from Maven's debug output.
mvn -B -o -X -pl operator -am package -DskipTests -Dspotless.check.skip=true > bench/out/build.log 2>&1 \
  || { tail -30 bench/out/build.log; exit 1; }
grep -- '-d .*operator/target/test-classes -classpath ' bench/out/build.log | tail -1 \
  | sed -E 's/.* -classpath ([^ ]+) .*/\1/' > bench/out/classpath.txt
[ -s bench/out/classpath.txt ] || { echo "no test classpath in bench/out/build.log"; exit 1; }

# a copy of the classes, so that a rebuild during the runs does not change what is measured
CLASSES=bench/out/classes-$LABEL
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
cp -r operator/target/classes "$CLASSES/main" && cp -r operator/target/test-classes "$CLASSES/test"
ROWS=bench/out/ledger-scale-$LABEL.md
: > "$ROWS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $SCENARIOS; do
  # "<pods>x<namespaces>", or "<pods>x<namespaces>:https": reports over HTTPS to the report server
  mode=${s#*:}; [ "$mode" = "$s" ] && mode=direct
  spec=${s%%:*}; pods=${spec%x*}; ns=${spec#*x}
  echo "== $pods pods in $ns namespace(s), reports every $INTERVAL, $RUN_SECONDS s measured"
  # JAVA_OPTS: extra JVM options, e.g. a JFR recording to see where the time goes
  timeout $((RUN_SECONDS + 300)) java -Xmx1536m -XX:+UseParallelGC ${JAVA_OPTS:-} \
    -cp "$CLASSES/test:$CLASSES/main:$(cat bench/out/classpath.txt)" \
    -Dlogback.configurationFile=logback-test.xml \
    dev.tollgate.operator.bench.LedgerScaleBench "$pods" "$ns" "$RUN_SECONDS" "$INTERVAL" "$ROWS" "$mode" \
    > "bench/out/ledger-scale-$LABEL-$s.log" 2>&1 \
    || { echo "| $pods | $ns | $INTERVAL | did not finish (see bench/out/ledger-scale-$LABEL-$s.log) |" >> "$ROWS"; tail -5 "bench/out/ledger-scale-$LABEL-$s.log"; }
  tail -1 "$ROWS"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "### $LABEL ($(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other work; load average before / after: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- command: \`LABEL=$LABEL SECONDS_PER_RUN=$RUN_SECONDS INTERVAL=$INTERVAL SCENARIOS=\"$SCENARIOS\" bench/ledger-scale.sh\`"
  echo
  echo "| pods | namespaces | interval asked | reports/s | ledger objects | largest ledger KiB | mean ledger KiB | ledger writes/s | ledger KiB/s written | status KiB/s written | all KiB/s written | accounting CPU (one core = 100 %) | process CPU | TokenReviews/s uncached | TokenReviews/s with a 60 s cache | p50 ms | p99 ms | reports failed in window (of which timed out at 10 s) / in flight at its end / final reports undelivered | overshoot (worst namespace, % of limit) | bound (one call per sidecar) | journal writes/s | journal KiB/s (in ledger KiB/s) | mock API server's own time per write p50 / p99 / p99.9 ms | ledger writes paced / forced by the ring | ConfigMaps in the operator namespace at the end (the mock scans them all per request) | API requests/s: all (journal slot writes / ledger writes / status writes / other writes / GETs / LISTs) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$ROWS"
  echo
} > "bench/out/ledger-scale-$LABEL-section.md"
echo "== wrote bench/out/ledger-scale-$LABEL-section.md (bench/results/ledger-scale.md collects the sections)"
