#!/usr/bin/env bash
# Shared credential limit benchmark: three sidecars, each with CALLERS callers at full speed,
# against one ProviderCredential limited to LIMIT requests per minute, all in one JVM with the
# operator (which divides the limit among the sidecars) and fabric8's mock API server. Counts the
# calls the provider simulator served per second and reports every 60-second window against the
# limit. Writes bench/results/shared-limits.md. Not a test: nothing here passes or fails on a number.
#   bench/shared-limits.sh                       # 600 requests/min, 3 callers per sidecar, 150 s
#   LIMIT=120 CALLERS=2 SECONDS_=90 bench/shared-limits.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-600}
CALLERS=${CALLERS:-3}
RUN=${SECONDS_:-150}
mkdir -p bench/out bench/results

echo "== build (package only; nothing is installed into ~/.m2)"
mvn -B -q -pl operator -am package dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/bench/out/classpath.txt"

echo "== run: $LIMIT requests/min, 3 sidecars x $CALLERS callers, $RUN s"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
java -Xmx512m -cp "operator/target/test-classes:operator/target/classes:$(cat bench/out/classpath.txt)" \
  -Dlogback.configurationFile=logback-test.xml \
  dev.tollgate.operator.bench.SharedLimitsBench "$LIMIT" "$CALLERS" "$RUN" bench/out/shared-limits-table.md \
  > bench/out/shared-limits.log 2>&1 || { tail -50 bench/out/shared-limits.log; exit 1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Shared credential limit benchmark"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM, shared with other work"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- load average (1/5/15 min) before / after the run: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- command: \`LIMIT=$LIMIT CALLERS=$CALLERS SECONDS_=$RUN bench/shared-limits.sh\`"
  echo "- setup: one JVM: fabric8 mock API server (CRUD), the operator, its report endpoint (HTTPS,"
  echo "  group commit every 500 ms), the provider simulator and three sidecars reporting every 2 s."
  echo "  The ProviderCredential allows $LIMIT requests per minute for the account; each sidecar has"
  echo "  $CALLERS callers sending non-streamed calls back to back (a refused caller waits 5 ms), far"
  echo "  more than the limit. Traffic starts once the sidecars hold their shares."
  echo
  cat bench/out/shared-limits-table.md
  echo
  echo "Reading: the operator gives each sidecar a third of the limit; each share is a token bucket"
  echo "holding one minute's worth and refilling continuously. So the first 60 s carry the buckets'"
  echo "initial fill (one limit's worth) on top of the refill, as one bucket of the whole limit would;"
  echo "every later 60-second window is bounded by the refill, i.e. the limit. See operator/README.md"
  echo "(Shared credential limits)."
} > bench/results/shared-limits.md
echo "== wrote bench/results/shared-limits.md"
