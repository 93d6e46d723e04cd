#!/usr/bin/env bash
# Formats the C++ sources with the repository's .clang-format (clang-format
# 14, Debian bookworm's). --check changes nothing: it lists the files that
# differ and exits 1 if there are any.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
clang_format="${CLANG_FORMAT:-clang-format}"
check=0
[ "${1:-}" = --check ] && check=1

folders=(ir engine codegen runtime nn tools tests bench examples include)
mapfile -t files < <(find "${folders[@]}" -type f \( -name '*.cpp' -o -name '*.h' \) | sort)

if [ "$check" = 0 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -n 16 "$clang_format" -i --style=file
  exit 0
fi

# Each file formatted to stdout and compared, in parallel.
mapfile -t differ < <(printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -n 16 sh -c '
  for f; do "$0" --style=file "$f" | cmp -s - "$f" || echo "$f"; done' "$clang_format" | sort)
if [ ${#differ[@]} -gt 0 ]; then
  printf 'format: %s differs from .clang-format\n' "${differ[@]}" >&2
  echo "format: ${#differ[@]} file(s); run scripts/format.sh to fix them" >&2
  exit 1
fi
