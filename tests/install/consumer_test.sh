#!/bin/sh
# Installs the current build into a temporary prefix, then configures, builds
# and runs examples/consumer against it with find_package, as a user would.
# Usage: consumer_test.sh CMAKE BUILD_DIR SOURCE_DIR GENERATOR
set -eu
cmake=$1 build=$2 source=$3 generator=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Compiled kernels go to a cache of this test's own, not the user's.
export FUSEJIT_CACHE_DIR="$tmp/cache"

"$cmake" --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
for f in include/fusejit/fusejit.h include/fusejit/engine/tensor.h include/fusejit/ir/node.h \
         lib/cmake/fusejit/fusejitConfig.cmake lib/cmake/fusejit/fusejitConfigVersion.cmake \
         lib/cmake/fusejit/fusejitTargets.cmake bin/fusejit; do
  test -e "$tmp/prefix/$f" || { echo "not installed: $f" >&2; exit 1; }
done
# The library's private dependencies must not leak into what consumers link.
if grep -E 'LLVM|spdlog|OpenMP|Threads|fusejit_codegen' "$tmp/prefix/lib/cmake/fusejit/fusejitTargets.cmake"; then
  echo "the exported target names a private dependency" >&2
  exit 1
fi

"$cmake" -S "$source/examples/consumer" -B "$tmp/build" -G "$generator" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
out=$("$tmp/build/consumer")
echo "$out"
echo "$out" | tail -1 | grep -qx '4.5 5.5 10.5 11.5 ' || { echo "unexpected values" >&2; exit 1; }
echo "$out" | grep -q '^kernel k0 matmul' || { echo "expected one matmul kernel" >&2; exit 1; }

# The installed tool runs from the prefix, finding its library there.
"$tmp/prefix/bin/fusejit" dump "$source/examples/programs/seed.fj" --stage kernels | grep -q '^# 1 kernel'
echo "consumer: ok"
