#!/bin/bash
# clcnn train --logdir's failures: a log directory that cannot be used is
# one error line naming it, before any training; a write that fails during
# the run (here: the file-size limit, as a full disk would) is one error
# line naming the event file, and the run still finishes and saves its
# model.  Needs no TensorBoard.
#
#   tests/test_tensorboard_errors.sh path/to/clcnn
set -u
CLCNN=${1:?usage: test_tensorboard_errors.sh path/to/clcnn}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-tensorboard-errors-XXXXXX") || exit 1
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
/usr/bin/python3 "$HERE/make_synthetic_npz.py" || { echo "FAIL - could not write the test data"; exit 1; }

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }

# expect_error DESC WORD LOGDIR: train --logdir LOGDIR fails with one line
# on stderr naming WORD, and trains nothing (no model is saved).
expect_error() {
    local what=$1 word=$2
    rm -f m.model
    "$CLCNN" train --data data.npz --device cpu --epochs 1 --save m.model --logdir "$3" >out.txt 2>err.txt
    local rc=$? lines
    lines=$(wc -l <err.txt)
    if [ "$rc" -eq 0 ]; then
        fail "$what: exit status 0"
    elif [ "$lines" -ne 1 ]; then
        fail "$what: $lines lines on stderr, want 1:"
        sed 's/^/    /' err.txt
    elif ! grep -qF -- "$word" err.txt; then
        fail "$what: stderr does not name '$word': $(cat err.txt)"
    elif [ -e m.model ]; then
        fail "$what: it trained and saved a model"
    else
        pass "$what (exit $rc: $(cat err.txt))"
    fi
}

echo not a directory >plain
expect_error "a --logdir that is a file" "--logdir plain: not a directory" plain
expect_error "a --logdir below a file" "--logdir plain/run: cannot create the directory" plain/run
expect_error "an empty --logdir" "--logdir: an empty path" ""
if [ "$(id -u)" -ne 0 ]; then
    mkdir locked && chmod 555 locked
    expect_error "a --logdir without write permission" "cannot create locked/events.out.tfevents." locked
else
    echo "skip - a --logdir without write permission (root may write anywhere)"
fi

# A write failing mid-run.  The limit lies above the model file's size, so
# --save succeeds, and below what 20 epochs log (some 16 KB of histograms
# and the image each: about 320 KB): the event file hits it around the
# 16th epoch.  Ten training images keep the run short (under valgrind too).
# SIGXFSZ is ignored, so the write fails with EFBIG instead of killing the
# process.
/usr/bin/python3 "$HERE/make_synthetic_npz.py" tiny.npz 5 10 10 10 || { echo "FAIL - could not write tiny.npz"; exit 1; }
limit_kb=250
(trap '' XFSZ; ulimit -f "$limit_kb"; exec "$CLCNN" train --data tiny.npz --device cpu --epochs 20 \
    --batch-size 5 --quiet --metrics m.csv --save m.model --logdir full) >out.txt 2>err.txt
rc=$?
model_size=$(stat -c %s m.model 2>/dev/null || echo 0)
if [ "$model_size" -ge $((limit_kb * 1024)) ]; then
    fail "the test's premise: the model ($model_size bytes) must fit under the limit ($limit_kb KB)"
fi
if [ "$rc" -eq 1 ]; then pass "a failed log write: exit status 1"; else fail "a failed log write: exit status $rc, want 1"; fi
if [ "$(wc -l <err.txt)" -eq 1 ] && grep -Eq '^clcnn: error: full/events\.out\.tfevents\.[^ ]+\.clcnn: write failed \(File too large\); TensorBoard logging stops here, training goes on$' err.txt; then
    pass "a failed log write: one line naming the event file ($(cat err.txt))"
else
    fail "a failed log write: stderr is not one line naming the event file:"
    sed 's/^/    /' err.txt
fi
if [ "$(tail -n +2 m.csv 2>/dev/null | wc -l)" -eq 20 ]; then pass "the run goes on to its last epoch"; else fail "the run did not finish its 20 epochs: $(cat m.csv)"; fi
if "$CLCNN" info m.model >/dev/null 2>&1; then pass "the run's model is saved and loads"; else fail "the run's model was lost"; fi
if grep -Eq '^test: loss [0-9.]+ accuracy' out.txt; then pass "the run reports its test figures"; else fail "no test figures: $(cat out.txt)"; fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
