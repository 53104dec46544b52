#!/bin/bash
# PyTorch -> clcnn (docs/onnx.md): LeNet-5 at opsets 7, 13 and 17 and a
# convnet with BatchNormalization, grouped/dilated/padded convolution, LRN,
# padded and ceil-mode pooling and dropout, trained briefly in PyTorch and
# exported by torch.onnx (tests/onnx_torch.py), are imported by clcnn on
# DEVICE; their outputs on 500 Fashion-MNIST test images must equal
# PyTorch's to 1e-5 (of the largest output, at least 1).  Then
# import -> export -> import must be lossless (the same layers, bit-equal
# weights), and both imports fine-tune with train --init (the weights move)
# and export again.
#
#   tests/test_onnx_torch.sh CLCNN ONNX_PREDICT COMPARE_MODELS DEVICE
#
# Exit 77: no PyTorch or no Fashion-MNIST; or no OpenCL device for opencl.
set -u
CLCNN=${1:?usage: test_onnx_torch.sh CLCNN ONNX_PREDICT COMPARE_MODELS DEVICE}
PREDICT=${2:?} COMPARE=${3:?} DEVICE=${4:-cpu}
HERE=$(cd "$(dirname "$0")" && pwd)
export CLCNN_DEVICE=$DEVICE
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-onnx-torch-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

/usr/bin/python3 "$HERE/onnx_torch.py" . 500 >torch.out 2>torch.err
rc=$?
[ $rc -eq 77 ] && { cat torch.out; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL - tests/onnx_torch.py exited $rc:"; tail -n 5 torch.err; exit 1; }
cat torch.out

fail=0
# max |a - b| <= 1e-5 * max(1, max |b|), printed
close() {
    /usr/bin/python3 -c '
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")
scale = max(1.0, float(np.abs(b).max()))
print("%s vs %s: max difference %.3g (scale %.3g)" % (sys.argv[1], sys.argv[2], err, scale))
sys.exit(0 if err <= 1e-5 * scale else 1)' "$1" "$2"
}

/usr/bin/python3 "$HERE/make_synthetic_npz.py" data.npz 7 200 50 50 >/dev/null || { echo "FAIL - no test data"; exit 1; }
for net in lenet5_opset7 lenet5_opset13 lenet5_opset17 convnet; do
    if ! "$PREDICT" "$net.onnx" images.npy "$net.clcnn.npy" 2>err.txt; then
        if [ "$DEVICE" = opencl ] && grep -q -i 'opencl' err.txt; then
            echo "skipping: no OpenCL device ($(head -n 1 err.txt))"
            exit 77
        fi
        echo "FAIL - $net.onnx: $(cat err.txt)"; fail=1; continue
    fi
    close "$net.clcnn.npy" "$net.out.npy" || { echo "FAIL - $net: clcnn's outputs differ from PyTorch's"; fail=1; }

    # import -> export -> import: the same layers and bit-equal weights.
    "$CLCNN" import "$net.onnx" -o a.model >import1.out &&
        "$CLCNN" export a.model -o b.onnx >export.out &&
        "$CLCNN" import b.onnx -o c.model >import2.out || { echo "FAIL - $net: import/export: $(tail -n 1 ./*.out)"; fail=1; continue; }
    "$COMPARE" a.model c.model 0 >cmp.out || { echo "FAIL - $net: import -> export -> import changed the model: $(cat cmp.out)"; fail=1; }
    diff <(sed 1d import1.out | sed '$d') <(sed 1d import2.out | sed '$d') >/dev/null ||
        { echo "FAIL - $net: the re-imported layers differ"; diff import1.out import2.out; fail=1; }
    "$PREDICT" b.onnx images.npy b.npy && cmp -s b.npy "$net.clcnn.npy" ||
        { echo "FAIL - $net: the re-exported model predicts otherwise"; fail=1; }

    # Fine-tuning the import, then exporting it again.
    case $net in lenet5_opset13 | convnet)
        "$CLCNN" train --init "$net.onnx" --data data.npz --epochs 1 --seed 2 --save ft.model --quiet >train.out 2>&1 ||
            { echo "FAIL - $net: train --init: $(tail -n 1 train.out)"; fail=1; continue; }
        if "$COMPARE" a.model ft.model 0 >/dev/null; then echo "FAIL - $net: fine-tuning left the weights as they were"; fail=1; fi
        "$CLCNN" export ft.model -o ft.onnx >/dev/null && "$PREDICT" ft.onnx images.npy ft1.npy &&
            "$PREDICT" ft.model images.npy ft2.npy && cmp -s ft1.npy ft2.npy ||
            { echo "FAIL - $net: the fine-tuned model does not export as it predicts"; fail=1; }
        echo "$net: fine-tuned with train --init ($(grep -o 'test: .*' train.out | head -n 1)), re-exported"
    esac
done
# eval and predict take the .onnx itself (its logits read through a softmax).
"$CLCNN" eval --model lenet5_opset13.onnx --data data.npz >eval.out 2>&1 && grep -q '^test: loss' eval.out ||
    { echo "FAIL - clcnn eval on an .onnx: $(tail -n 1 eval.out)"; fail=1; }
"$CLCNN" predict --model convnet.onnx img.pgm >predict.out 2>&1 && grep -q '^img.pgm: ' predict.out ||
    { echo "FAIL - clcnn predict on an .onnx: $(tail -n 1 predict.out)"; fail=1; }
[ $fail -eq 0 ] && echo "PASS - PyTorch -> clcnn on $DEVICE: 4 models equal to 1e-5, import -> export -> import lossless, fine-tuned"
exit $fail
