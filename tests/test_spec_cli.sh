#!/bin/bash
# clcnn train --model SPEC end to end (docs/spec-format.md): a spec file
# with grouped convolution, LRN and overlapping pooling trains on a small
# synthetic .npz, the saved model carries its layers (eval and predict
# need nothing else), and bad specs are one line on stderr naming the
# file and the line.
#
#   tests/test_spec_cli.sh path/to/clcnn
#
# Exit 0: all passed; 1: a failure (each printed); 77: skipped (no python3
# to write the .npz).
set -u

CLCNN=${1:?usage: test_spec_cli.sh path/to/clcnn}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
    echo "skipping: no python3 to write the test data"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-spec-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

failures=0
. "$HERE/cli_lib.sh" # pass, fail, check, expect_error

"$PY" "$HERE/make_synthetic_npz.py" || { echo "FAIL - could not write the test data"; exit 1; }

cat >net.spec <<'SPEC'
# a small network with alexnet-mini's ingredients
input 28x28x1
conv units=8 k=5 s=2 padding=same groups=1 activation=relu
lrn size=5 alpha=0.0001 beta=0.75 k=2
pool k=3 s=2 mode=max
conv units=8 k=3 s=1 padding=explicit pad=1 groups=2 activation=relu
flatten
dense units=10 activation=softmax
SPEC
"$CLCNN" train --model net.spec --data data.npz --epochs 2 --batch-size 20 --device cpu --save m.model \
    --metrics m.csv >train.out 2>train.err
rc=$?
check "train --model net.spec exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' train.err
check "the header names the spec" grep -q '^clcnn: net.spec (3394 parameters)' train.err
# The second epoch's training loss is below the first's.
check "the loss falls over two epochs" awk -F, 'NR == 2 { a = $2 } NR == 3 { b = $2 } END { exit !(b < a) }' m.csv
check "test accuracy printed" grep -Eq '^test: loss [0-9.]+ accuracy [0-9.]+' train.out
"$CLCNN" info m.model >info.out 2>&1
info_ok() { grep -Eq 'lrn_1 .*LocalResponseNormalization.* 14, 14, 8' info.out && grep -q 'Total params: 3,394' info.out; }
check "the saved model holds the spec's layers" info_ok
"$CLCNN" eval --model m.model --data data.npz --device cpu >eval.out 2>eval.err
check "eval of the saved model needs no spec" grep -Eq 'loss [0-9.]+ accuracy [0-9.]+' eval.out
"$CLCNN" predict --model m.model --device cpu img.pgm >pred.out 2>pred.err
check "predict of the saved model needs no spec" grep -Eq '^img\.pgm: [0-9] ' pred.out

# lenet5 by name is the default's network.
"$CLCNN" train --model lenet5 --data data.npz --epochs 1 --batch-size 50 --device cpu --seed 3 --quiet \
    >named.out 2>&1
"$CLCNN" train --data data.npz --epochs 1 --batch-size 50 --device cpu --seed 3 --quiet >default.out 2>&1
check "--model lenet5 trains as the default does" cmp -s named.out default.out

# Errors: one line naming the spec and the line.
printf 'input 28x28x1\nconv units=8 k=5 s=1 padding=same activation=relu\npool k=2 s=2 mode=mean\n' >bad.spec
expect_error "a bad value names the file and line" "bad.spec:3: mode wants one of max, avg, not 'mean'" \
    "$CLCNN" train --model bad.spec --data data.npz --device cpu
printf 'input 28x28x1\nconv units=8 k=29 s=1 padding=valid activation=relu\n' >shape.spec
expect_error "an impossible shape names the line and the layer" "shape.spec:2: layer 1 (conv): " \
    "$CLCNN" train --model shape.spec --data data.npz --device cpu
printf 'input 32x32x3\nflatten\ndense units=10 activation=softmax\n' >rgb.spec
expect_error "a spec for other images names both shapes" "rgb.spec takes 32x32x3 images; the data has 28x28x1" \
    "$CLCNN" train --model rgb.spec --data data.npz --device cpu
expect_error "an unknown name is neither file nor built-in" "nor a built-in network: lenet5, alexnet-mini" \
    "$CLCNN" train --model lenet6 --data data.npz --device cpu
expect_error "--model with --resume" "--resume continues the checkpoint's own network" \
    "$CLCNN" train --model lenet5 --resume x.ckpt --data data.npz --device cpu

# clcnn bench --model: the spec's own layers timed (net.spec: 2 conv, 1
# LRN, 1 pool, 1 dense; small, so that it stays quick under valgrind), its
# name in the report and the JSON, and each layer's arithmetic: conv1 is
# 32 images x 14x14x8 outputs x 5x5x1 taps, conv2 (groups 2) 32 x 6x6x8 x
# 3x3x4, dense1 32 x 288 x 10 multiply-adds; backward adds the weight
# gradient's, and but for conv1 (the first layer) the input gradient's.
"$CLCNN" bench --device cpu --repeats 1 --images 256 --model net.spec --json bench.json >bench.out 2>bench.err
bench_report_ok() {
    grep -q '^clcnn bench: net.spec, synthetic data' bench.out && grep -q '^  conv2  backward' bench.out &&
        grep -q '^  dense1 forward (logits)' bench.out && grep -q '^  lrn1   backward' bench.out &&
        grep -q '^  conv2  forward  *[0-9.]*$' <(sed -n '/^layer arithmetic/,/^training step/p' bench.out) &&
        grep -q '"model": "net.spec"' bench.json
}
bench_flops_ok() {
    "$PY" - <<'PY'
import json
layers = {l["name"]: l for l in json.load(open("bench.json"))["backends"][0]["layers"]}
want = {"conv1": (32 * 14 * 14 * 8 * 25, 1), "conv2": (32 * 36 * 8 * 9 * 4, 2),
        "dense1": (32 * 288 * 10, 2), "lrn1": (0, 0), "pool1": (0, 0)}
for name, (macs, bwd) in want.items():
    got = (layers[name]["forward_flop"], layers[name]["backward_flop"])
    exp = (2 * macs, 2 * macs * bwd)
    assert all(abs(g - e) <= 1e-5 * e for g, e in zip(got, exp)), (name, got, exp)
PY
}
check "bench --model net.spec times its layers" bench_report_ok
check "bench counts each layer's multiply-adds" bench_flops_ok
expect_error "bench --model with a bad spec names the file and line" "bench on cpu: bad.spec:3: mode wants one of" \
    "$CLCNN" bench --device cpu --repeats 1 --images 256 --model bad.spec

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
