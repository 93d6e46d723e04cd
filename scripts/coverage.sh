#!/usr/bin/env bash
# Line coverage of the library and the tool by the whole test suite: builds
# with GCC's --coverage in its own directory (FUSEJIT_COV_BUILD_DIR, default
# build-cov), runs ctest, then prints line coverage per folder and the
# functions with the most lines no test runs. Not part of scripts/test.sh:
# the instrumented, unoptimized build costs as much as the main one again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUSEJIT_COV_BUILD_DIR:-$root/build-cov}"
top="${FUSEJIT_COV_TOP:-15}"

# -O0 so that every source line maps to code gcov can count.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFUSEJIT_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="--coverage -O0" -DCMAKE_C_FLAGS="--coverage -O0" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$build"
find "$build" -name '*.gcda' -delete
# Failures are reported but do not stop the report: coverage of a red suite
# is still coverage.
ctest --test-dir "$build" -j "$(nproc)" >"$build/coverage-ctest.log" 2>&1 ||
  echo "coverage: some tests failed, see $build/coverage-ctest.log" >&2

# gcov's JSON for every object file, merged per source line by the script.
find "$build" -name '*.gcda' -print0 |
  (cd "$build" && xargs -0 -n 16 gcov --json-format --stdout 2>/dev/null) |
  python3 "$root/scripts/coverage_report.py" "$root" "$top"
