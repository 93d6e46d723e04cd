#!/bin/sh
# Runs a training example and checks the accuracy on its last line:
#   accuracy_at_least.sh MIN PROGRAM ARGS...
# Skips (exit 77, CTest's SKIP_RETURN_CODE here) where the data set is not
# installed.
set -u
min="$1"
shift
[ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] || {
  echo "dataset-fashion-mnist is not installed (scripts/deps.sh installs it)"
  exit 77
}
out="$("$@")" || { echo "$out"; echo "the program failed"; exit 1; }
echo "$out"
got="$(echo "$out" | sed -n 's/^test accuracy: \([0-9.]*\)%$/\1/p' | tail -1)"
[ -n "$got" ] || { echo "no 'test accuracy:' line"; exit 1; }
awk -v got="$got" -v min="$min" 'BEGIN { if (got + 0 < min + 0) { print "accuracy " got "% is below " min "%"; exit 1 } }'
