#!/bin/bash
# End-to-end tests of the clcnn program: train, eval, predict and their
# error paths, on a small synthetic .npz made here (a learnable task: the
# class is which horizontal band of a 28x28 image holds a bright bar).
#
#   tests/test_cli.sh path/to/clcnn
#
# Exit 0: all passed; 1: a failure (each printed); 77: skipped (no python3
# to write the .npz).
set -u

CLCNN=${1:?usage: test_cli.sh path/to/clcnn}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
    echo "skipping: no python3 to write the test data"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# ---------------------------------------------------------------- data
"$PY" "$HERE/make_synthetic_npz.py" || { echo "FAIL - could not write the test data"; exit 1; }

# One line on stderr, naming what is wrong: expect_error DESC WORD CMD...
expect_error() {
    local what=$1 word=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local rc=$?
    local lines
    lines=$(wc -l <err.txt)
    if [ "$rc" -eq 0 ]; then
        fail "$what: exit status 0"
    elif [ "$lines" -ne 1 ]; then
        fail "$what: $lines lines on stderr, want 1:"
        sed 's/^/    /' err.txt
    elif ! grep -qF -- "$word" err.txt; then
        fail "$what: stderr does not name '$word': $(cat err.txt)"
    else
        pass "$what (exit $rc: $(cat err.txt))"
    fi
}

# ---------------------------------------------------------------- train
start=$(date +%s)
"$CLCNN" train --data data.npz --epochs 2 --batch-size 32 --metrics m.csv --save m.model \
    --device cpu --quiet >train.out 2>train.err
rc=$?
check "train exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' train.err
check "train --quiet is silent on stderr" test ! -s train.err
check "the model file exists" test -s m.model
check "no temporary files are left" test "$(ls | grep -c 'm\.model.')" -eq 0
header=$(head -n 1 m.csv 2>/dev/null)
check "metrics header" test "$header" = "epoch,loss,accuracy,val_loss,val_accuracy,seconds,images_per_second"
check "metrics has 2 rows" test "$(tail -n +2 m.csv 2>/dev/null | wc -l)" -eq 2
rows_ok=1
n=0
while IFS=, read -r epoch loss acc vloss vacc secs rate extra; do
    n=$((n + 1))
    num='^[0-9]+(\.[0-9]+)?$'
    if [ "$epoch" != "$n" ] || [ -n "$extra" ] || ! [[ $loss =~ $num && $acc =~ $num && $vloss =~ $num &&
        $vacc =~ $num && $secs =~ $num && $rate =~ $num ]]; then
        rows_ok=0
        echo "    bad metrics row: $epoch,$loss,$acc,$vloss,$vacc,$secs,$rate${extra:+,$extra}"
    fi
done < <(tail -n +2 m.csv 2>/dev/null)
check "metrics rows are epoch 1, 2 with 6 numbers each" test "$rows_ok" -eq 1 -a "$n" -eq 2
check "train prints the test figures" grep -Eq 'loss [0-9.]+ accuracy [0-9.]+' train.out

# ----------------------------------------------------------------- eval
"$CLCNN" eval --model m.model --data data.npz --device cpu >eval.out 2>eval.err
rc=$?
check "eval exits 0 (got $rc)" test "$rc" -eq 0
check "eval prints loss and accuracy" grep -Eq 'loss [0-9]+\.[0-9]+ accuracy [0-9]+\.[0-9]+' eval.out
[ "$rc" -eq 0 ] || sed 's/^/    /' eval.err
"$CLCNN" eval --model m.model --data data.npz --split valid --device cpu >evalv.out 2>&1
check "eval --split valid names the split" grep -Eq '^valid: loss [0-9.]+ accuracy [0-9.]+' evalv.out

# -------------------------------------------------------------- predict
"$CLCNN" predict --model m.model --device cpu img.pgm >pred.out 2>pred.err
rc=$?
check "predict exits 0 (got $rc)" test "$rc" -eq 0
check "predict prints a class for img.pgm" grep -Eq '^img\.pgm: [0-9] \([01]\.[0-9]+\)' pred.out
[ "$rc" -eq 0 ] || sed 's/^/    /' pred.err

# ------------------------------------------------------------- progress
# Without --quiet, and with stderr not a terminal, progress is plain lines.
"$CLCNN" train --data data.npz --epochs 1 --batch-size 50 --device cpu >prog.out 2>prog.err
rc=$?
check "train without --quiet exits 0 (got $rc)" test "$rc" -eq 0
check "progress lines on stderr" grep -Eq 'epoch 1/1: [0-9]+/600 images' prog.err
check "no terminal control characters when not a TTY" test "$(tr -cd '\r\033' <prog.err | wc -c)" -eq 0
check "an epoch summary with validation figures" grep -Eq 'val_loss [0-9.]+' prog.err

# --------------------------------------------------------------- errors
expect_error "missing --data path" "no-such-data.npz" \
    "$CLCNN" train --data "$WORK/no-such-data.npz" --epochs 1 --device cpu --quiet
head -c 200 m.model >corrupt.model
expect_error "truncated model file" "corrupt.model" \
    "$CLCNN" eval --model corrupt.model --data data.npz --device cpu
cp m.model flipped.model
printf '\xff' | dd of=flipped.model bs=1 seek=5000 conv=notrunc status=none
expect_error "model file with a flipped byte" "flipped.model" \
    "$CLCNN" predict --model flipped.model --device cpu img.pgm
expect_error "unknown option" "--no-such-option" \
    "$CLCNN" train --no-such-option --data data.npz
expect_error "--epochs 0" "--epochs" \
    "$CLCNN" train --epochs 0 --data data.npz --device cpu
expect_error "eval without --model" "--model" \
    "$CLCNN" eval --data data.npz --device cpu
expect_error "predict without --model" "--model" \
    "$CLCNN" predict --device cpu img.pgm
expect_error "missing model file" "absent.model" \
    "$CLCNN" eval --model absent.model --data data.npz --device cpu
expect_error "unknown command" "frobnicate" \
    "$CLCNN" frobnicate
expect_error "--save into a missing directory" "no/such/dir" \
    "$CLCNN" train --data data.npz --epochs 1 --device cpu --quiet --save "$WORK/no/such/dir/x.model"

elapsed=$(($(date +%s) - start))
echo "# $failures failure(s), ${elapsed}s"
[ "$failures" -eq 0 ]
