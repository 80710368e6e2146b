#!/usr/bin/env bash
# test.sh - every test: set everything up, build the C++ suite and run it (ctest), then the
# Python suite (pytest, including the interop suite against the official Go/Node/Python builders).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup.sh --test
[[ -x /usr/local/go/bin/go ]] && export PATH=$PATH:/usr/local/go/bin
JOBS=$(nproc)

echo "== C++ suite (GoogleTest via ctest)"
cmake -S . -B build/tests -G Ninja -DCMAKE_BUILD_TYPE=Release -DMINTLANE_BUILD_TESTS=ON -DMINTLANE_BUILD_BENCH=ON >/dev/null
cmake --build build/tests -j "$JOBS"
ctest --test-dir build/tests -j "$JOBS" --output-on-failure --timeout 300
# Every dispatch path the CPU supports: rerun the suite with features removed, newest first.
for mask in avx512vbmi avx512vbmi,avx512bw,avx2 avx512vbmi,avx512bw,avx2,shani; do
  echo "== C++ suite with MINTLANE_DISABLE_CPU_FEATURES=$mask"
  MINTLANE_DISABLE_CPU_FEATURES=$mask build/tests/mintlane_tests --gtest_brief=1
done

echo "== sanitizers: ASan+UBSan (every C++ test) and TSan (batch, Minter and server tests)"
scripts/sanitize.sh all

echo "== fuzz smoke (libFuzzer + ASan/UBSan, ${MINTLANE_FUZZ_SECONDS:-20} s per target)"
scripts/fuzz.sh "${MINTLANE_FUZZ_SECONDS:-20}"

echo "== Python suite (pytest)"
export MINTLANE_REQUIRE_INTEROP=1
cd "$ROOT"
.venv/bin/python -m pytest -q -p no:cacheprovider --timeout 600 tests/python tests/interop
