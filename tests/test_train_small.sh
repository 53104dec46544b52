#!/bin/bash
# One epoch of LeNet-5 training on OpenCL over 9 synthetic images in
# batches of 4 (a ragged last batch of 1), with validation and a test pass:
# every training kernel on a case small enough for a simulator (the
# oclgrind suite, run through tests/oclgrind_check.sh).
#
#   tests/test_train_small.sh path/to/clcnn
set -u
CLCNN=${1:?usage: test_train_small.sh path/to/clcnn}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-train-small-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
/usr/bin/python3 "$HERE/make_synthetic_npz.py" small.npz 1 9 3 3 || exit 1
"$CLCNN" train --device opencl --data small.npz --epochs 1 --batch-size 4 --quiet
