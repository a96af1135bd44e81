#!/usr/bin/env bash
# Budget benchmark: SIDECARS sidecars (default 3), each with CALLERS callers at full speed, against a Block budget
# of LIMIT USD (gpt-4o on the simulator: 0.0125 USD a call), all in one JVM with the operator and
# fabric8's mock API server. Measures overshoot (spend beyond the limit in the operator's ledger,
# after every sidecar delivered its last report) and how quickly every sidecar refuses calls.
# Writes bench/results/budget.md. Not a test: nothing here passes or fails on a number.
#   bench/budget.sh                     # $20 limit, 4 callers per sidecar, 2 s reports
#   LIMIT=5.00 CALLERS=2 bench/budget.sh
#   LIMIT=0.50 CALLERS=8 SIDECARS=2 RESULT=bench/results/budget-small.md bench/budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-20.00}
CALLERS=${CALLERS:-4}
INTERVAL=${INTERVAL:-2s}
SIDECARS=${SIDECARS:-3}
RESULT=${RESULT:-bench/results/budget.md}
mkdir -p bench/out bench/results

echo "== build (package only; nothing is installed into ~/.m2)"
mvn -B -q -pl operator -am package dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/bench/out/classpath.txt"

echo "== run: limit \$$LIMIT, $SIDECARS sidecars x $CALLERS callers, reports every $INTERVAL"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
java -Xmx512m -cp "operator/target/test-classes:operator/target/classes:$(cat bench/out/classpath.txt)" \
  -Dlogback.configurationFile=logback-test.xml \
  dev.tollgate.operator.bench.BudgetBench "$LIMIT" "$CALLERS" "$INTERVAL" bench/out/budget-table.md "$SIDECARS" \
  > bench/out/budget.log 2>&1 || { tail -50 bench/out/budget.log; exit 1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Budget benchmark"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM, shared with other work"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- load average (1/5/15 min) before / after the run: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- command: \`LIMIT=$LIMIT CALLERS=$CALLERS SIDECARS=$SIDECARS INTERVAL=$INTERVAL bench/budget.sh\`"
  echo "- setup: one JVM: fabric8 mock API server (CRUD), the operator, its report endpoint (HTTPS,"
  echo "  group commit every 500 ms), the provider simulator and $SIDECARS sidecars reporting every $INTERVAL."
  echo "  Each sidecar has $CALLERS callers sending non-streamed calls back to back (a refused caller"
  echo "  waits 5 ms). Traffic starts once every sidecar has its first reply, and stops when every"
  echo "  sidecar has refused for 2 s."
  echo
  cat bench/out/budget-table.md
  echo
  echo "Reading: a sidecar refuses once the spend since its last report reaches its allowance (its"
  echo "share of what remains, not granted to the others) and asks for a new one at once; so the"
  echo "sidecars stop on their allowances, usually before the operator's ledger reaches the limit, and"
  echo "the overshoot is bounded by the calls in flight when each sidecar's allowance ran out (here at"
  echo "most $CALLERS per sidecar × \$0.0125). The price: near the limit, callers get 429s while a"
  echo "sidecar waits for a new allowance (the refusals column counts those retries too). With budgets"
  echo "that last days rather than seconds, allowances dwarf what a sidecar spends between reports and"
  echo "this only happens in the last moments before the limit. See operator/README.md."
} > "$RESULT"
echo "== wrote $RESULT"
