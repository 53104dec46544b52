#!/bin/bash
# clcnn train's optimizer options end to end (src/cli/train_optim.c): each
# bad value or combination is one clear line on stderr; SGD with momentum,
# weight decay, Nesterov and a schedule trains; and a run resumed from an
# end-of-epoch checkpoint continues with the checkpoint's optimizer,
# velocity and schedule count, ending with the uninterrupted run's model
# byte for byte (the CPU backend is deterministic).
#
#   tests/test_optim_cli.sh path/to/clcnn
set -u

CLCNN=$(realpath "${1:?usage: test_optim_cli.sh path/to/clcnn}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skipping: no python3 to write the test data"; exit 77; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-optim-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
"$PY" "$HERE/make_synthetic_npz.py" || { echo "FAIL - could not write the test data"; exit 1; }

failures=0
. "$HERE/cli_lib.sh" # pass, fail, check, expect_error

base=("$CLCNN" train --device cpu --data data.npz --batch-size 16 --seed 3 --quiet)

expect_error "an unknown optimizer" "--optimizer wants adam or sgd" "${base[@]}" --optimizer rmsprop
expect_error "a momentum of 1" "--momentum wants a number in [0, 1)" "${base[@]}" --optimizer sgd --momentum 1
expect_error "a negative weight decay" "--weight-decay" "${base[@]}" --optimizer sgd --weight-decay -0.1
expect_error "momentum without sgd" "settings of --optimizer sgd" "${base[@]}" --momentum 0.9
expect_error "Nesterov without momentum" "--nesterov needs a --momentum" "${base[@]}" --optimizer sgd --nesterov
for bad in step:0:0.5 step:2 step:2:1 step:2:0 plateau:0 plateau:x plateau:2:1.5 cosine:3 step ""; do
    expect_error "--lr-schedule '$bad'" "--lr-schedule wants step:EVERY:FACTOR or plateau:N[:FACTOR]" \
        "${base[@]}" --lr-schedule "$bad"
done
# IDX files have no validation split: --valid-size 0 leaves none.
DATA=/usr/share/datasets/fashion-mnist
if [ -d "$DATA" ] && "$PY" "$HERE/make_idx_subset.py" "$DATA" idx 64 16; then
    expect_error "a plateau schedule without validation images" "needs validation images" \
        "$CLCNN" train --device cpu --data idx --valid-size 0 --quiet --lr-schedule plateau:2
else
    echo "skip - a plateau schedule without validation images: no $DATA"
fi

# SGD trains: the loss falls from its first epoch to its last, and the
# figures are not Adam's.
sgd=(--optimizer sgd --lr 0.05 --momentum 0.9 --weight-decay 5e-4 --nesterov --lr-schedule plateau:1)
"${base[@]}" --epochs 3 "${sgd[@]}" --metrics sgd.csv --save reference.model >/dev/null 2>err.txt ||
    fail "the SGD run failed: $(cat err.txt)"
"${base[@]}" --epochs 3 --metrics adam.csv >/dev/null 2>err.txt || fail "the Adam run failed: $(cat err.txt)"
first=$(sed -n 2p sgd.csv | cut -d, -f2)
last=$(sed -n 4p sgd.csv | cut -d, -f2)
if [ -n "$first" ] && [ -n "$last" ] && awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'; then
    pass "SGD lowers the training loss ($first -> $last over 3 epochs)"
else
    fail "SGD's training loss did not fall: $(cat sgd.csv)"
fi
if cmp -s <(cut -d, -f2-5 sgd.csv) <(cut -d, -f2-5 adam.csv); then
    fail "--optimizer sgd gave Adam's figures"
else
    pass "--optimizer sgd trains otherwise than Adam"
fi

# Two epochs with a checkpoint, then a resume to the third: the same model.
"${base[@]}" --epochs 2 "${sgd[@]}" --checkpoint ck.ck >/dev/null 2>err.txt ||
    fail "the first two epochs failed: $(cat err.txt)"
if "$CLCNN" info ck.ck 2>&1 | grep -q "SGD: lr 0.05, momentum 0.9, weight decay 0.0005, Nesterov"; then
    pass "clcnn info shows the checkpoint's SGD settings"
else
    fail "clcnn info does not show the SGD settings: $("$CLCNN" info ck.ck 2>&1 | tail -1)"
fi
"$CLCNN" info --json ck.ck >ck.json 2>&1
check "clcnn info --json shows the checkpoint's SGD settings" "$PY" -c '
import json, math
s = json.load(open("ck.json"))["training_state"]
g = s["sgd"]
assert s["optimizer"] == "sgd" and "adam" not in s, s
assert math.isclose(g["lr"], 0.05, rel_tol=1e-6) and math.isclose(g["momentum"], 0.9, rel_tol=1e-6), g
assert math.isclose(g["weight_decay"], 5e-4, rel_tol=1e-6) and g["nesterov"] is True, g'
expect_error "--resume with optimizer options" "--resume continues with the checkpoint's optimizer" \
    "${base[@]}" --epochs 3 --resume ck.ck --optimizer sgd
if "${base[@]}" --epochs 3 --resume ck.ck --save resumed.model >/dev/null 2>err.txt; then
    if cmp -s reference.model resumed.model; then
        pass "the resumed SGD run ends with the uninterrupted run's model"
    else
        fail "the resumed SGD run's model differs from the uninterrupted run's"
    fi
else
    fail "the resume failed: $(cat err.txt)"
fi

[ "$failures" -eq 0 ] && echo "optim cli: all passed"
[ "$failures" -eq 0 ]
