#!/usr/bin/env bash
# Installs what is missing, checks the formatting (before building, it is
# fast) and runs clang-tidy, builds everything and runs the whole test suite.
# Then the reliability jobs, each in its own build directory beside the main
# one (FUSEJIT_QUICK=1 skips them):
#   fuzz  the .fj parser and the .npy reader under libFuzzer (clang,
#         ASan+UBSan), a bounded number of inputs each;
#   asan  the whole suite again under ASan+UBSan (GCC; undefined behaviour
#         fails, LLVM's own library is not instrumented);
#   tsan  the concurrency test under TSan, kernels on one thread: libgomp is
#         not instrumented, so its barriers would read as races.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
build="${FUSEJIT_BUILD_DIR:-$root/build}"
jobs="$(nproc)"
step() { echo "== $* ($(date +%T))"; }

step "format: the sources follow .clang-format"
"$root/scripts/format.sh" --check

# The whole tree on every core: about 13 CPU-minutes, so some 7 minutes
# of wall time on two cores. It configures $build if it has to.
step "tidy: no clang-tidy finding"
FUSEJIT_BUILD_DIR="$build" FUSEJIT_TIDY_JOBS="$jobs" "$root/scripts/tidy.sh"

step "build and test in $build"
cmake -S "$root" -B "$build" -G Ninja -DFUSEJIT_WERROR=ON >/dev/null
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j "$jobs"

[ "${FUSEJIT_QUICK:-0}" = 1 ] && exit 0

step "fuzz: libFuzzer on the .fj parser and the .npy reader"
CC=clang CXX=clang++ cmake -S "$root" -B "$build-fuzz" -G Ninja -DFUSEJIT_FUZZ=ON >/dev/null
cmake --build "$build-fuzz"
ctest --test-dir "$build-fuzz" --output-on-failure

# Huge shapes must fail as errors, so allocations the sanitizer refuses
# return null (then bad_alloc) instead of aborting.
export ASAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

step "asan: the whole suite under ASan+UBSan"
cmake -S "$root" -B "$build-asan" -G Ninja -DFUSEJIT_WERROR=ON -DFUSEJIT_BUILD_BENCH=OFF \
  -DFUSEJIT_SANITIZE=address,undefined >/dev/null
cmake --build "$build-asan"
ctest --test-dir "$build-asan" --output-on-failure -j "$jobs"

step "tsan: threads sharing the engine's caches"
cmake -S "$root" -B "$build-tsan" -G Ninja -DFUSEJIT_WERROR=ON -DFUSEJIT_BUILD_BENCH=OFF \
  -DFUSEJIT_SANITIZE=thread >/dev/null
cmake --build "$build-tsan" --target fusejit_tests
FUSEJIT_NUM_THREADS=1 "$build-tsan/tests/fusejit_tests" --gtest_filter='Concurrency.*'
step "done"
