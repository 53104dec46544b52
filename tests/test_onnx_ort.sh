#!/bin/bash
# clcnn -> ONNX Runtime (docs/onnx.md): a LeNet-5 trained by clcnn on DEVICE
# (one epoch of tests/make_synthetic_npz.py's data, with class names) and a
# model of every layer kind and setting the export covers (onnx_predict
# --every-layer) are exported with clcnn export; ONNX Runtime (PyPI, in the
# virtual environment VENV that scripts/setup.sh makes) runs them on the
# test images and must give clcnn's outputs to 1e-5, with producer clcnn
# and the class names in the metadata.
#
#   tests/test_onnx_ort.sh CLCNN ONNX_PREDICT VENV DEVICE
#
# Exit 77: no onnxruntime in VENV; or no OpenCL device for opencl.
set -u
CLCNN=${1:?usage: test_onnx_ort.sh CLCNN ONNX_PREDICT VENV DEVICE}
PREDICT=${2:?} VENV=${3:?} DEVICE=${4:-cpu}
HERE=$(cd "$(dirname "$0")" && pwd)
export CLCNN_DEVICE=$DEVICE
SITE=$(ls -d "$VENV"/lib/python3*/site-packages 2>/dev/null | head -n 1)
# Debian's python3 with the environment's packages on its path, so that
# a valgrind run (which skips /usr/*) checks clcnn and not the interpreter.
if [ -z "$SITE" ] || ! PYTHONPATH=$SITE /usr/bin/python3 -c 'import onnxruntime' 2>/dev/null; then
    echo "skipping: no virtual environment with onnxruntime at $VENV (scripts/setup.sh makes it)"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-onnx-ort-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
/usr/bin/python3 "$HERE/make_synthetic_npz.py" data.npz 7 200 50 50 --names=U >/dev/null || { echo "FAIL - no test data"; exit 1; }
/usr/bin/python3 -c '
import numpy as np
np.save("images.npy", (np.load("data.npz")["X_test"].astype(np.float32) / 255)[..., None])' ||
    { echo "FAIL - cannot write images.npy"; exit 1; }

"$CLCNN" train --data data.npz --epochs 1 --seed 4 --save lenet5.model --quiet >train.out 2>&1
rc=$?
if [ $rc -ne 0 ] && [ "$DEVICE" = opencl ] && grep -q 'OpenCL' train.out; then
    echo "skipping: no OpenCL device ($(head -n 1 train.out))"
    exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL - clcnn train: $(tail -n 1 train.out)"; exit 1; }
"$PREDICT" --every-layer every.model || exit 1
names=$(/usr/bin/python3 "$HERE/make_synthetic_npz.py" --print-names |
    /usr/bin/python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)), end="")')

fail=0
for net in lenet5 every; do
    "$CLCNN" export "$net.model" -o "$net.onnx" >export.out || { echo "FAIL - clcnn export $net: $(tail -n 1 export.out)"; fail=1; continue; }
    "$PREDICT" "$net.model" images.npy "$net.npy" || { fail=1; continue; }
    if [ $net = lenet5 ]; then
        PYTHONPATH=$SITE /usr/bin/python3 "$HERE/onnx_ort.py" "$net.onnx" images.npy "$net.npy" 1e-5 "$names" || fail=1
    else
        PYTHONPATH=$SITE /usr/bin/python3 "$HERE/onnx_ort.py" "$net.onnx" images.npy "$net.npy" 1e-5 || fail=1
    fi
done
[ $fail -eq 0 ] && echo "PASS - clcnn -> ONNX Runtime on $DEVICE: 2 models equal to 1e-5, class names kept"
exit $fail
