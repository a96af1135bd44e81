#!/usr/bin/env bash
# End-to-end check on a real Kubernetes cluster (kind). Needs docker, kind, kubectl and helm on
# the machine, and network access to pull the distroless base image and cert-manager (optional).
# It has NOT been run on Tollgate's own build machines (no container engine there); see docs/e2e-kind.md.
#
#   scripts/e2e-kind.sh            # create cluster "tollgate-e2e", install, check, keep the cluster
#   KEEP=0 scripts/e2e-kind.sh     # ... and delete the cluster at the end
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${CLUSTER:-tollgate-e2e}
TAG=${TAG:-e2e}
NS=tollgate-system

for tool in docker kind kubectl helm mvn; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; exit 1; }
done

step() { printf '\n== %s\n' "$*"; }

step "build jars and images"
mvn -B -q -DskipTests package
docker build -q -t "tollgate/operator:${TAG}" -f operator/Dockerfile operator
docker build -q -t "tollgate/sidecar:${TAG}" -f sidecar-proxy/Dockerfile sidecar-proxy

step "cluster ${CLUSTER}"
kind get clusters | grep -qx "${CLUSTER}" || kind create cluster --name "${CLUSTER}" --wait 120s
kind load docker-image --name "${CLUSTER}" "tollgate/operator:${TAG}" "tollgate/sidecar:${TAG}"

step "install the chart"
kubectl apply --server-side --force-conflicts -f crds/
helm upgrade --install tollgate helm/tollgate -n "${NS}" --create-namespace --wait --timeout 180s \
  --set operator.image.repository=tollgate/operator --set operator.image.tag="${TAG}" \
  --set operator.image.pullPolicy=Never \
  --set sidecar.image.repository=tollgate/sidecar --set sidecar.image.tag="${TAG}" \
  --set sidecar.image.pullPolicy=Never

step "apply the quickstart example"
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace demo tollgate.dev/injection=enabled --overwrite
kubectl -n demo create secret generic openai-api-key --from-literal=api-key=sk-e2e-not-a-real-key \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f examples/quickstart/quickstart.yaml

step "resources become Accepted and the sidecar configuration is rendered"
kubectl -n demo wait --for=condition=Accepted --timeout=60s providercredential/openai llmroute/chat budget/demo-monthly
kubectl -n demo get configmap tollgate-sidecar-config -o jsonpath='{.data.config\.yaml}' | grep -q 'model: chat'
if kubectl -n demo get configmap tollgate-sidecar-config -o yaml | grep -q 'sk-e2e-not-a-real-key'; then
  echo "e2e: the API key leaked into the ConfigMap" >&2; exit 1
fi

step "a pod in the namespace gets the sidecar"
kubectl -n demo run e2e-app --image=busybox:1.36 --restart=Never -- sleep 3600
kubectl -n demo wait --for=condition=Ready --timeout=120s pod/e2e-app
kubectl -n demo get pod e2e-app -o jsonpath='{.spec.initContainers[0].name}' | grep -qx tollgate-sidecar
kubectl -n demo exec e2e-app -c e2e-app -- wget -qO- http://127.0.0.1:4000/v1/models | grep -q '"chat"'

step "leader election: one of two operator replicas holds the lease"
kubectl -n "${NS}" get lease tollgate-operator -o jsonpath='{.spec.holderIdentity}'; echo

kubectl -n demo get tollgate
echo; echo "e2e: OK"
if [ "${KEEP:-1}" = "0" ]; then kind delete cluster --name "${CLUSTER}"; fi
