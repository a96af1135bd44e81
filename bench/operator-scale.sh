#!/usr/bin/env bash
# Operator scale benchmark: N namespaces x M LLMRoutes (default 50 x 20 = 1,000) against fabric8's
# mock API server; the operator runs as its own process (java -jar) so its memory is measured alone.
# Writes bench/results/operator-scale.md. Not a test: nothing here passes or fails on a number.
#   bench/operator-scale.sh            # 50 namespaces x 20 routes
#   NAMESPACES=5 ROUTES_PER_NAMESPACE=4 bench/operator-scale.sh   # a quick run
# UNRELATED_SECRETS (default 2000) Secrets of SECRET_KIB (default 50) KiB that nothing references are
# created first, spread over the namespaces, like the Helm release Secrets of a real cluster.
# MVN_FLAGS (e.g. -o) is passed to the build.
set -euo pipefail
cd "$(dirname "$0")/.."
NAMESPACES=${NAMESPACES:-50}
ROUTES_PER_NAMESPACE=${ROUTES_PER_NAMESPACE:-20}
UNRELATED_SECRETS=${UNRELATED_SECRETS:-2000}
SECRET_KIB=${SECRET_KIB:-50}
OPERATOR_JAVA_OPTS=${OPERATOR_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}
mkdir -p bench/out bench/results

echo "== build (package only; nothing is installed into ~/.m2)"
mvn -B -q ${MVN_FLAGS:-} -pl operator -am package dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/bench/out/classpath.txt"

echo "== run: $NAMESPACES namespaces x $ROUTES_PER_NAMESPACE routes, $UNRELATED_SECRETS unrelated Secrets of $SECRET_KIB KiB"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
java -cp "operator/target/test-classes:operator/target/classes:$(cat bench/out/classpath.txt)" \
  dev.tollgate.operator.bench.OperatorScaleBench \
  operator/target/tollgate-operator.jar "$NAMESPACES" "$ROUTES_PER_NAMESPACE" bench/out/operator-scale-table.md \
  "$OPERATOR_JAVA_OPTS" "$UNRELATED_SECRETS" "$SECRET_KIB"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Operator scale benchmark"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM, shared with other work"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- load average (1/5/15 min) before / after the run: $LOAD_BEFORE / $LOAD_AFTER (other builds share the 2 cores)"
  echo "- command: \`NAMESPACES=$NAMESPACES ROUTES_PER_NAMESPACE=$ROUTES_PER_NAMESPACE UNRELATED_SECRETS=$UNRELATED_SECRETS SECRET_KIB=$SECRET_KIB OPERATOR_JAVA_OPTS='$OPERATOR_JAVA_OPTS' bench/operator-scale.sh\`"
  echo "- setup: fabric8 kubernetes-server-mock 7.5.2 (CRUD mode, plain HTTP) in the benchmark JVM;"
  echo "  the operator as \`java $OPERATOR_JAVA_OPTS -jar operator/target/tollgate-operator.jar run --leader-election=false --status-ssa=false --reconcile-threads=4\`"
  echo "  in its own process. Each namespace has one Secret, one ProviderCredential (openai), one Budget and"
  echo "  $ROUTES_PER_NAMESPACE LLMRoutes of two tiers each, all drawing from the Budget. Objects are applied one by one."
  echo "  Before the operator starts, $UNRELATED_SECRETS Secrets of $SECRET_KIB KiB that nothing references (Helm-release-like)"
  echo "  are spread over the same namespaces."
  echo "- caveat: the mock API server is far slower than a real API server (it scans all objects per"
  echo "  request and shares the machine's 2 cores with the operator), so times are an upper bound."
  echo
  cat bench/out/operator-scale-table.md
  echo
  echo "Notes: every LLMRoute is reconciled once while objects arrive (a route's own status patch does"
  echo "not wake it, and other objects' status writes do not wake dependents); the other reconciles are"
  echo "ProviderCredentials and Budgets re-checking unpriced models and covered routes as routes arrive."
  echo "ConfigMap writes are fewer than routes because a render that finds several new routes writes once."
  echo "The no-op re-render changes a credential's spec in a way the sidecar does not see; every route is"
  echo "reconciled and re-rendered, and nothing is written. Live heap is the tenured 'used' after the full GC."
} > bench/results/operator-scale.md
echo "== wrote bench/results/operator-scale.md"
