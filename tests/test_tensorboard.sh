#!/bin/bash
# clcnn train --logdir read back by TensorBoard's own reader
# (tests/check_tensorboard.py, in the tests' virtual environment): a short
# run on the synthetic .npz of tests/make_synthetic_npz.py, into a log
# directory whose parents do not exist yet.
#
#   tests/test_tensorboard.sh path/to/clcnn VENV DEVICE
#
# VENV is the virtual environment with tensorboard (scripts/setup.sh makes
# build/tensorboard-venv); its packages are put on Debian's python3's path
# rather than running the environment's own python, so that a valgrind run
# (which skips /usr/*) checks clcnn and not the interpreter.
#
# Exit 0: passed; 1: a failure (printed); 77: skipped (no such virtual
# environment; or no OpenCL device for DEVICE opencl).
set -u
CLCNN=${1:?usage: test_tensorboard.sh path/to/clcnn VENV DEVICE}
VENV=${2:?usage: test_tensorboard.sh path/to/clcnn VENV DEVICE}
DEVICE=${3:-cpu}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
SITE=$(ls -d "$VENV"/lib/python3*/site-packages 2>/dev/null | head -n 1)
if [ -z "$SITE" ] || ! PYTHONPATH=$SITE "$PY" -c 'import tensorboard, PIL' 2>/dev/null; then
    echo "skipping: no virtual environment with tensorboard and Pillow at $VENV (scripts/setup.sh makes it)"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-tensorboard-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
/usr/bin/python3 "$HERE/make_synthetic_npz.py" data.npz 7 200 50 50 || { echo "FAIL - could not write the test data"; exit 1; }

# 200 training images in batches of 32: 7 steps an epoch, the last of 8.
"$CLCNN" train --data data.npz --device "$DEVICE" --epochs 2 --batch-size 32 --lr 0.002 --seed 3 \
    --metrics m.csv --save m.model --logdir logs/new/run --quiet >train.out 2>train.err
rc=$?
if [ "$rc" -ne 0 ] && [ "$DEVICE" = opencl ] && grep -q 'OpenCL' train.err; then
    echo "skipping: no OpenCL device ($(head -n 1 train.err))"
    exit 77
fi
if [ "$rc" -ne 0 ]; then
    echo "FAIL - train --logdir exits $rc:"
    sed 's/^/    /' train.err
    exit 1
fi
# A build without libpng says so once and logs no filter images.
images=1
if [ "$(cat train.err)" = "clcnn: --logdir: built without libpng, so the logs hold no filter images" ]; then
    echo "ok   - a build without libpng says so: $(cat train.err)"
    images=0
elif [ -s train.err ]; then
    echo "FAIL - train --logdir --quiet printed on stderr:"
    sed 's/^/    /' train.err
    exit 1
fi
echo "ok   - train --logdir exits 0, quietly"

LIB=$(dirname "$CLCNN")/libclcnn.so
ldd "$LIB" 2>/dev/null | grep -Eq 'lib(a|ub)san' && LIB=-
TB_IMAGES=$images PYTHONPATH=$SITE "$PY" "$HERE/check_tensorboard.py" logs/new/run m.csv m.model "$LIB" 200 32 2 0.002
