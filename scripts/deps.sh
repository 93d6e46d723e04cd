#!/usr/bin/env bash
# Installs the Debian packages fusejit needs, the one list of them.
# Idempotent and quiet when everything is already present.
#   scripts/deps.sh [--torch]
# --torch also installs PyTorch, which only bench/train_vs_torch.sh uses.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config
  # codegen: LLVM 19 with ORC, and FileCheck for the fusion regression tests
  llvm-19-dev llvm-19-tools libzstd-dev zlib1g-dev libffi-dev libedit-dev libxml2-dev
  # engine and tests
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  # the fusejit tool; graphviz's `dot` draws `fusejit dump --png` (and its tests)
  libcli11-dev nlohmann-json3-dev graphviz
  # training data: zlib (above) reads the gzip IDX files of this data set
  dataset-fashion-mnist
  # benchmarks only
  libbenchmark-dev libopenblas-dev libeigen3-dev
  # numpy for cross-checking .npy files and results in tests
  python3-numpy
  # reliability jobs of scripts/test.sh: clang with libFuzzer and its
  # sanitizer runtimes (GCC's ASan, UBSan and TSan come with g++)
  clang libclang-rt-14-dev
  # scripts/format.sh and scripts/tidy.sh (run-clang-tidy comes with clang-tidy)
  clang-format clang-tidy
)

for arg in "$@"; do
  case "$arg" in
    # the PyTorch side of bench/train_vs_torch.sh (Debian's, for /usr/bin/python3)
    --torch) PACKAGES+=(python3-torch) ;;
    *)
      echo "usage: $0 [--torch]" >&2
      exit 2
      ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
