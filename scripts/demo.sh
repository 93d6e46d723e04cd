#!/usr/bin/env bash
# The main job: installs what is missing, builds the `fusejit` tool, and runs
# the seed example (a zip then a reduce: sum(a * b, 1)) through every stage
# this build has, printing the IR and the result.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
build="${FUSEJIT_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target fusejit_cli seed_example >/dev/null
fj="$build/bin/fusejit"
prog="$root/examples/programs/seed.fj"

echo "== the program: $prog"
grep -v '^#' "$prog"
echo
echo "== fusejit dump --stage graph (the lazy graph, as parsed)"
"$fj" dump "$prog" --stage graph
echo
echo "== fusejit run --seed 0 (inputs: seeded uniform values in [-1, 1])"
"$fj" run "$prog" --seed 0
echo
echo "== the same computation through the C++ API (examples/seed.cpp)"
"$build/examples/seed_example"
