#!/usr/bin/env bash
# Builds with -Werror and runs the whole CTest suite, then the unit tests and a small scenario
# matrix under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
jobs=$(nproc)

echo "== build (ci preset: -O2 -g -Werror)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
echo "== tests: unit, scenario, determinism, check, bugs"
ctest --preset ci -j "$jobs"

echo "== sanitizers (asan preset: ASan + UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs" -L unit
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
for s in scenarios/*.scn; do
    ./build/asan/tests/test_scenario_sweep "$s" 1 2
done
echo "== all tests passed"
