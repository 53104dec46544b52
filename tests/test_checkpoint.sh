#!/bin/bash
# Checkpoints survive SIGKILL: a training run is killed at random moments
# (checkpointing every step, so most kills land during or near a write),
# after each kill the checkpoint must load, the run resumes from it, and the
# model it finally saves must equal the one an uninterrupted run saves (the
# CPU backend is deterministic, so equal means byte-identical).
#
#   tests/test_checkpoint.sh path/to/clcnn [KILLS]
set -u

CLCNN=$(realpath "${1:?usage: test_checkpoint.sh path/to/clcnn [KILLS]}")
KILLS=${2:-25}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skipping: no python3 to write the test data"; exit 77; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-ckpt-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
"$PY" "$HERE/make_synthetic_npz.py" && "$PY" "$HERE/make_synthetic_npz.py" other.npz 99 ||
    { echo "FAIL - could not write the test data"; exit 1; }

run=("$CLCNN" train --device cpu --data data.npz --epochs 3 --batch-size 16 --seed 7 --quiet)
failures=0

"${run[@]}" --save reference.model >/dev/null || { echo "FAIL - the uninterrupted run failed"; exit 1; }

# The first epoch runs whole, so that a checkpoint exists however slowly the
# program runs (under valgrind a kill can come before the first step); the
# killed runs resume from it, checkpointing every step.
"${run[@]}" --epochs 1 --checkpoint ck.ck >/dev/null || { echo "FAIL - the first epoch failed"; exit 1; }
loads=0
for i in $(seq 1 "$KILLS"); do
    "${run[@]}" --resume ck.ck --checkpoint-every 1 >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if "$CLCNN" eval --device cpu --model ck.ck --data data.npz >/dev/null 2>err.txt; then
        loads=$((loads + 1))
    else
        echo "FAIL - after kill $i the checkpoint does not load: $(cat err.txt)"
        failures=$((failures + 1))
    fi
done
echo "ok   - the checkpoint loaded after each of $loads kills"

if "${run[@]}" --resume ck.ck --save resumed.model >/dev/null 2>err.txt; then
    if cmp -s reference.model resumed.model; then
        echo "ok   - the resumed run ends with the uninterrupted run's model"
    else
        echo "FAIL - the resumed run's model differs from the uninterrupted run's"
        failures=$((failures + 1))
    fi
else
    echo "FAIL - the final resume failed: $(cat err.txt)"
    failures=$((failures + 1))
fi

# A model file is not a checkpoint, and a checkpoint refuses other data.
if "${run[@]}" --resume reference.model >/dev/null 2>err.txt; then
    echo "FAIL - resuming from a model file succeeded"; failures=$((failures + 1))
elif grep -q "not a checkpoint" err.txt; then
    echo "ok   - a model file is refused as a checkpoint"
else
    echo "FAIL - unclear error resuming from a model file: $(cat err.txt)"; failures=$((failures + 1))
fi
if "$CLCNN" train --device cpu --data other.npz --resume ck.ck --quiet >/dev/null 2>err.txt; then
    echo "FAIL - resuming on other data succeeded"; failures=$((failures + 1))
elif grep -q "other data" err.txt; then
    echo "ok   - a checkpoint refuses other data"
else
    echo "FAIL - unclear error resuming on other data: $(cat err.txt)"; failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] && echo "checkpoint: all passed"
[ "$failures" -eq 0 ]
