#!/usr/bin/env bash
# sanitize.sh - the C++ suite under sanitizers (STYLE.md §9; libdeflate run_tests.sh,
# python-isal tox.ini):
#
#   thread            ThreadSanitizer build in build/tsan; runs the tests that start threads:
#                     the batch engine, concurrent Minter calls and the server
#                     (--gtest_filter='*Batch*:*Minter*:*Server*').
#   address           AddressSanitizer + UndefinedBehaviorSanitizer build in build/asan; runs
#                     every test, then runs the token and batch tests again with every optional
#                     CPU feature disabled (MINTLANE_DISABLE_CPU_FEATURES), so the scalar,
#                     OpenSSL and portable kernels run under ASan too.
#
# Usage: scripts/sanitize.sh [thread|address|all]   (default: all)
# Environment: JOBS (default: nproc), TSAN_FILTER (default above), CXX/CC as for CMake.
# Every pass runs even when an earlier one failed; the output of each goes to build/<dir>/*.log
# too, and a summary at the end separates sanitizer reports (the binary stops at the first one:
# -fno-sanitize-recover=all, halt_on_error=1) from ordinary test failures. Exit status: 0 only
# when every build succeeded, no sanitizer reported anything and every test passed.
#
# Needs the same packages as scripts/test.sh (GoogleTest, OpenSSL, ISA-L, zlib, Boost). OpenSSL,
# ISA-L and zlib are not instrumented: TSan sees their locks through the pthread interceptors,
# and ASan checks every buffer the engine passes to them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-all}
JOBS=${JOBS:-$(nproc)}
TSAN_FILTER=${TSAN_FILTER:-'*Batch*:*Minter*:*Server*'}

case "$MODE" in
  thread|address|all) ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "sanitize.sh: unknown mode '$MODE' (use thread, address or all)" >&2; exit 2 ;;
esac

# $1 build dir, $2 sanitizer list
build() {
  echo "== configure + build $1 (-DMINTLANE_SANITIZE=$2)"
  cmake -S "$ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMINTLANE_BUILD_TESTS=ON -DMINTLANE_BUILD_BENCH=OFF -DMINTLANE_SANITIZE="$2" >/dev/null
  cmake --build "$1" -j "$JOBS" --target mintlane_tests
}

FAILED_STEPS=()

# $1 log file, rest: command. Runs it with output to the terminal and the log; records failures.
run_logged() {
  local log=$1; shift
  set +e
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local reports tests
  reports=$(grep -cE '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (Address|Leak)Sanitizer)|runtime error:' "$log" || true)
  tests=$(grep -E '^\[  FAILED  \] [^ ]+\.[^ ]+' "$log" | grep -v ' ms)$' | sed 's/^\[  FAILED  \] //' | sort -u || true)
  if [[ $rc -ne 0 || $reports -ne 0 ]]; then
    FAILED_STEPS+=("$log: exit $rc, sanitizer reports: $reports, failed tests: $(echo "$tests" | grep -c . || true)")
    [[ -n $tests ]] && FAILED_STEPS+=("$(echo "$tests" | sed 's/^/    /')")
  fi
  return 0
}

run_tsan() {
  build build/tsan thread
  echo "== ThreadSanitizer: $TSAN_FILTER"
  # Some kernels place mappings where gcc 12's TSan does not expect them (high-entropy ASLR);
  # retry without address randomisation when that is the only problem.
  local cmd=(build/tsan/mintlane_tests "--gtest_filter=$TSAN_FILTER")
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"
  if ! "${cmd[@]}" --gtest_list_tests >/dev/null 2>/tmp/mintlane-tsan-probe.$$; then
    if grep -q "unexpected memory mapping" /tmp/mintlane-tsan-probe.$$ && command -v setarch >/dev/null; then
      cmd=(setarch "$(uname -m)" -R "${cmd[@]}")
    else
      cat /tmp/mintlane-tsan-probe.$$ >&2; rm -f /tmp/mintlane-tsan-probe.$$; return 1
    fi
  fi
  rm -f /tmp/mintlane-tsan-probe.$$
  run_logged build/tsan/tsan.log "${cmd[@]}"
}

run_asan() {
  build build/asan address,undefined
  export ASAN_OPTIONS="detect_leaks=1 strict_string_checks=1 detect_stack_use_after_return=1 check_initialization_order=1 ${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer: every test"
  run_logged build/asan/asan.log build/asan/mintlane_tests
  echo "== ASan + UBSan with every optional CPU feature disabled (portable kernels)"
  run_logged build/asan/asan-portable.log \
    env MINTLANE_DISABLE_CPU_FEATURES=avx512vbmi,avx512bw,avx2,bmi2,shani,sse41 build/asan/mintlane_tests \
    '--gtest_filter=Generated*:Reference*:Parse*:Npm*:*Batch*:*Minter*:*Base64*:*Sha256*:*Hmac*:*Sign*'
}

case "$MODE" in
  thread) run_tsan ;;
  address) run_asan ;;
  all) run_tsan; run_asan ;;
esac
if (( ${#FAILED_STEPS[@]} )); then
  echo "== sanitize.sh $MODE: FAILED"
  printf '%s\n' "${FAILED_STEPS[@]}"
  exit 1
fi
echo "== sanitize.sh $MODE: clean (no sanitizer reports, every test passed)"
