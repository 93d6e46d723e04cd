#!/usr/bin/env bash
# The main job: installs what is missing, builds the `fusejit` tool, and runs
# the seed example (a zip then a reduce: sum(a * b, 1)) through the pipeline:
# the graph as parsed, the optimized graph (the zip-then-reduce recognized as
# a matmul), the one fused kernel, and a JIT run checked against the
# reference interpreter.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
build="${FUSEJIT_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target fusejit_cli seed_example >/dev/null
fj="$build/bin/fusejit"
cd "$root"
prog="examples/programs/seed.fj"

echo "== the program: $prog"
grep -v '^#' "$prog"
echo
echo "== fusejit dump --stage graph (the lazy graph, as parsed)"
"$fj" dump "$prog" --stage graph
echo
echo "== fusejit dump --stage optimized (sum(a * b, 1) recognized as a matmul of views)"
"$fj" dump "$prog" --stage optimized
echo
echo "== fusejit dump --stage kernels (one kernel; the (2,3,2) product is never formed)"
"$fj" dump "$prog" --stage kernels
echo
echo "== fusejit run --seed 0 --check (JIT-compiled, compared with the reference interpreter)"
"$fj" run "$prog" --seed 0 --check
echo
echo "== the same computation through the C++ API (examples/seed.cpp)"
"$build/examples/seed_example"
