#!/usr/bin/env bash
# Reruns every benchmark and rewrites its results file under bench/results/. Each benchmark runs
# on loopback only, with bounded load, and stops by itself. Not part of the tests: numbers here
# are reported, never asserted. Takes well over half an hour on 2 cores: peers alone runs about
# 25 minutes at its defaults (three rates, three rounds), tracing-overhead about 5.
#   bench/run-all.sh                 # everything
#   bench/run-all.sh sidecar-overhead # one of: sidecar-overhead operator-scale failover budget shared-limits tracing-overhead peers
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(sidecar-overhead operator-scale failover budget shared-limits tracing-overhead peers)
SELECTED=("${@:-${ALL[@]}}")

echo "== build"
mvn -B -q -DskipTests package

for bench in "${SELECTED[@]}"; do
  if [ ! -x "bench/$bench.sh" ]; then
    echo "unknown benchmark '$bench'; known: ${ALL[*]}" >&2
    exit 2
  fi
  echo
  echo "== $bench ($(date -u +%H:%M:%S))"
  "bench/$bench.sh"
done
echo
echo "Results: $(ls bench/results/*.md | tr '\n' ' ')"
