#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets with clang + ASan/UBSan and run each one.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 25: the smoke run of the test command)
#   scripts/fuzz.sh 3600                   a long campaign; the corpus persists in build/fuzz/corpus
# Crashes are written to build/fuzz/artifacts/<target>/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-25}
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ missing: apt-get install clang libclang-rt-14-dev" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINTLANE_BUILD_FUZZ=ON \
  -DMINTLANE_SANITIZE=address,undefined >/dev/null
cmake --build build/fuzz -j "$(nproc)"
python3 fuzz/make_corpus.py build/fuzz/corpus >/dev/null
status=0
for bin in build/fuzz/fuzz/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  mkdir -p "build/fuzz/corpus/$name" "build/fuzz/artifacts/$name"
  log=build/fuzz/$name.log
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="build/fuzz/artifacts/$name/" "build/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $name: ${runs:-?} executions in ${SECONDS_PER_TARGET}s, 0 crashes"
  else
    echo "fuzz: $name: FAILED (see $log, artifacts in build/fuzz/artifacts/$name/)"; tail -30 "$log"; status=1
  fi
done
exit $status
