#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over the project's sources, as
# build/compile_commands.json compiles them (FUSEJIT_BUILD_DIR picks another
# build), in parallel when run-clang-tidy is installed. Exits 1 on any
# finding. Arguments, if any, are regexes on the paths to check instead of all.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUSEJIT_BUILD_DIR:-$root/build}"
jobs="${FUSEJIT_TIDY_JOBS:-$(nproc)}"

[ -f "$build/compile_commands.json" ] ||
  cmake -S "$root" -B "$build" -G Ninja -DFUSEJIT_WERROR=ON >/dev/null
# The one generated header the sources include.
cmake --build "$build" --target codegen/generated/codegen/source_hash.h >/dev/null

folders='(ir|engine|codegen|runtime|nn|tools|tests|bench|examples|include)'
# The commands are GCC's; clang does not know some of its warning flags.
args=(-p "$build" -quiet -extra-arg=-Wno-unknown-warning-option
      "-header-filter=^$root/$folders/")
if [ $# -eq 0 ]; then set -- "^$root/$folders/"; fi

if command -v run-clang-tidy >/dev/null; then
  # run-clang-tidy prints each file's command line; keep only the findings.
  set +e
  run-clang-tidy -j "$jobs" "${args[@]}" "$@" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' |
    grep --line-buffered -v -E '^(clang-tidy|[0-9]+ warnings? (generated|treated as errors)|Suppressed [0-9]+ warnings|Use -header-filter=|Running clang-tidy in|Error while processing )'
  status=${PIPESTATUS[0]}
  set -e
else
  mapfile -t files < <(python3 -c '
import json, re, sys
pattern = re.compile("|".join(sys.argv[2:]))
for e in json.load(open(sys.argv[1])):
    if pattern.search(e["file"]):
        print(e["file"])' "$build/compile_commands.json" "$@" | sort -u)
  status=0
  printf '%s\0' "${files[@]}" | xargs -0 -P "$jobs" -n 4 clang-tidy "${args[@]}" || status=1
fi
[ "$status" -eq 0 ] && echo "tidy: clean" || echo "tidy: findings above" >&2
exit "$status"
