#!/usr/bin/env bash
# Times training epochs of examples/fashion_mnist against the same models in
# PyTorch (bench/fashion_mnist_torch.py), both starting from the same initial
# weights (--save-init, then --init), on the same batches in the same order.
# One line per model, batch and thread count: each side's training time, the
# ratio torch / fusejit (> 1 favours fusejit), and both test accuracies.
#
#   bench/train_vs_torch.sh [--epochs N] [--limit N] [--cold]
#
# FUSEJIT_BUILD_DIR (default build) holds examples/fashion_mnist. Each
# fusejit configuration first runs once untimed, so that the timed run finds
# its kernels in the disk cache ($FUSEJIT_CACHE_DIR, else ~/.cache/fusejit),
# as any run after the first does; --cold gives each run an empty cache
# instead, and then fusejit's time includes compiling every kernel (LLVM O3,
# about 10 ms each).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUSEJIT_BUILD_DIR:-build}"
[[ "$build" = /* ]] || build="$root/$build"
example="$build/examples/fashion_mnist"
torch_script="$root/bench/fashion_mnist_torch.py"
# Debian's interpreter, where python3-torch installs; not a pyenv on PATH.
python=/usr/bin/python3

usage() {
  echo "usage: $0 [--epochs N] [--limit N] [--cold]" >&2
  exit 2
}
epochs=1
limit=()
warm=1
while [ $# -gt 0 ]; do
  if [ "$1" = --cold ]; then
    warm=0
    shift
    continue
  fi
  [ $# -ge 2 ] || usage
  case "$1" in
    --epochs) epochs="$2" ;;
    --limit) limit=(--limit "$2") ;;
    *) usage ;;
  esac
  shift 2
done

if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "train_vs_torch: PyTorch is not importable by $python; install it with" \
    "scripts/deps.sh --torch (Debian's python3-torch)"
  exit 0
fi
[ -x "$example" ] || {
  echo "train_vs_torch: $example is not built (ninja -C $build fashion_mnist)" >&2
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Runs a training program; prints "SECONDS ACCURACY" from its output, or its
# whole output and fails.
run() {
  local out seconds accuracy
  if ! out="$("$@" 2>&1)"; then
    echo "$out" >&2
    echo "train_vs_torch: failed: $*" >&2
    return 1
  fi
  seconds="$(echo "$out" | sed -n 's/^train time: \([0-9.]*\) s$/\1/p' | tail -1)"
  accuracy="$(echo "$out" | sed -n 's/^test accuracy: \([0-9.]*\)%$/\1/p' | tail -1)"
  if [ -z "$seconds" ] || [ -z "$accuracy" ]; then
    echo "$out" >&2
    echo "train_vs_torch: no 'train time:' or 'test accuracy:' line from: $*" >&2
    return 1
  fi
  echo "$seconds $accuracy"
}

torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
echo "fusejit vs PyTorch $torch_version: Fashion-MNIST training, $epochs epoch(s)" \
  "${limit[1]:+on the first ${limit[1]} images }(adam, lr 1e-3, same initial weights)," \
  "$([ "$warm" = 1 ] && echo "fusejit's kernels from its disk cache" || echo "fusejit compiling cold")" \
  "($(nproc) cores); ratios > 1 favour fusejit"
echo
printf '  %-6s %5s %7s  %10s %10s %8s  %12s %10s\n' model batch threads "fusejit s" "torch s" \
  ratio "fusejit acc" "torch acc"
for model in mlp lenet; do
  for batch in 64 256; do
    for threads in 1 2; do
      init="$tmp/$model-$batch-$threads.safetensors"
      common=(--model "$model" --epochs "$epochs" --batch "$batch" --threads "$threads"
        "${limit[@]}")
      # Each library's pools sized by the thread count, as each run's flag.
      export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
      if [ "$warm" = 1 ]; then
        run "$example" "${common[@]}" --epochs 1 >/dev/null
      else
        export FUSEJIT_CACHE_DIR="$tmp/cache-$model-$batch-$threads"
        mkdir -p "$FUSEJIT_CACHE_DIR"
      fi
      result="$(run "$example" "${common[@]}" --save-init "$init")"
      read -r f_s f_acc <<<"$result"
      result="$(run "$python" "$torch_script" "${common[@]}" --init "$init")"
      read -r t_s t_acc <<<"$result"
      printf '  %-6s %5s %7s  %10s %10s %7.2fx  %11s%% %9s%%\n' "$model" "$batch" "$threads" \
        "$f_s" "$t_s" "$(awk -v f="$f_s" -v t="$t_s" 'BEGIN { print (f > 0 ? t / f : 0) }')" \
        "$f_acc" "$t_acc"
    done
  done
done
