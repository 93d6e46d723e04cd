#!/bin/sh
# Installs the current build into a temporary prefix, then builds and runs
# examples/consumer against it as a user would: with CMake's find_package,
# with pkg-config, and with a plain `g++ -I PREFIX/include ... -lfusejit`.
# Usage: consumer_test.sh CMAKE BUILD_DIR SOURCE_DIR GENERATOR CXX
set -eu
cmake=$1 build=$2 source=$3 generator=$4 cxx=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Compiled kernels go to a cache of this test's own, not the user's.
export FUSEJIT_CACHE_DIR="$tmp/cache"
prefix="$tmp/prefix"

"$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in include/fusejit/fusejit.h include/fusejit/tensor.h include/fusejit/settings.h \
         lib/cmake/fusejit/fusejitConfig.cmake lib/cmake/fusejit/fusejitConfigVersion.cmake \
         lib/cmake/fusejit/fusejitTargets.cmake lib/pkgconfig/fusejit.pc bin/fusejit; do
  test -e "$prefix/$f" || { echo "not installed: $f" >&2; exit 1; }
done
# Only what a user needs: one flat folder, no internal layer's headers.
extra=$(find "$prefix/include" -mindepth 1 ! -path "$prefix/include/fusejit" ! -path "$prefix/include/fusejit/*.h")
test -z "$extra" || { echo "installed beyond include/fusejit/*.h: $extra" >&2; exit 1; }
if grep -n '#include "' "$prefix"/include/fusejit/*.h; then
  echo "an installed header includes a project header by a quoted path" >&2
  exit 1
fi
if grep -n 'Plan\b\|FuseTrace\|KernelsView' "$prefix"/include/fusejit/*.h; then
  echo "an installed header exposes an internal type" >&2
  exit 1
fi
# Each compiles on its own, in the compiler's default language standard.
for h in "$prefix"/include/fusejit/*.h; do
  echo "#include <fusejit/$(basename "$h")>" | "$cxx" -fsyntax-only -I "$prefix/include" -x c++ - ||
    { echo "$h does not compile on its own" >&2; exit 1; }
done
# The library's private dependencies must not leak into what consumers link,
# nor the source tree's folders into their include path.
if grep -E 'LLVM|spdlog|OpenMP|Threads|fusejit_codegen|fusejit_internal' "$prefix/lib/cmake/fusejit/fusejitTargets.cmake"; then
  echo "the exported target names a private dependency" >&2
  exit 1
fi
includes=$(grep 'INTERFACE_INCLUDE_DIRECTORIES' "$prefix/lib/cmake/fusejit/fusejitTargets.cmake")
echo "$includes" | grep -q '"${_IMPORT_PREFIX}/include"' || { echo "unexpected include path: $includes" >&2; exit 1; }

check() {  # $1: the consumer's output
  echo "$1" | tail -1 | grep -qx '4.5 5.5 10.5 11.5 ' || { echo "unexpected values" >&2; exit 1; }
  echo "$1" | grep -q '^kernel k0 matmul' || { echo "expected one matmul kernel" >&2; exit 1; }
  echo "$1" | grep -qx '\[ CPUFloatType{2,2} \]' || { echo "expected the printed tensor" >&2; exit 1; }
  echo "$1" | grep -qx -- '-1.5000 -3.5000 -3.5000' || { echo "expected the stepped weights" >&2; exit 1; }
}

"$cmake" -S "$source/examples/consumer" -B "$tmp/build" -G "$generator" \
  -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
out=$("$tmp/build/consumer")
echo "$out"
check "$out"

# pkg-config, and the compiler's own default language standard.
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs fusejit)
"$cxx" "$source/examples/consumer/main.cpp" $flags -o "$tmp/consumer_pc"
check "$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer_pc")"
# Nothing but the include and library folders.
"$cxx" -I "$prefix/include" "$source/examples/consumer/main.cpp" -L "$prefix/lib" -lfusejit \
  -o "$tmp/consumer_plain"
check "$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer_plain")"

# The installed tool runs from the prefix, finding its library there.
"$prefix/bin/fusejit" dump "$source/examples/programs/seed.fj" --stage kernels | grep -q '^# 1 kernel'
echo "consumer: ok"
