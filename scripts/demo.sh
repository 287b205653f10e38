#!/usr/bin/env bash
# The quick start: build rheasim and run the default scenario with faults; prints the report.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null

scenario=${1:-scenarios/leader-isolation.scn}
seed=${2:-1}
out=runs/demo
rm -rf "$out"
set +e
./build/release/rheasim run "$scenario" --seed "$seed" --out "$out"
code=$?
set -e
echo
echo "The report is in $out/: summary.json, trace.jsonl, history.jsonl, latency.csv,"
echo "latency.png and latency.svg (latency over time, fault windows shaded)."
exit $code
