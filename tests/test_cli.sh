#!/bin/bash
# End-to-end tests of the clcnn program: train, eval (with its per-class
# report, checked against tests/check_eval_report.py's own count), predict,
# info and their error paths, on a small synthetic .npz made here (a
# learnable task: the class is which horizontal band of a 28x28 image holds
# a bright bar).
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
. "$HERE/cli_lib.sh" # pass, fail, check, expect_error

# ---------------------------------------------------------------- data
"$PY" "$HERE/make_synthetic_npz.py" || { echo "FAIL - could not write the test data"; exit 1; }

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

# ----------------------------------------------------------------- info
head -c 200 m.model >corrupt.model
LIB=$(dirname "$CLCNN")/libclcnn.so
CHECK="$HERE/check_eval_report.py"
# The checks that call the library from python3 through ctypes cannot run
# on a sanitizer build (an uninstrumented python3 cannot load it): they
# say so and are left out there; every other run makes them.
sanitized=0
ldd "$LIB" 2>/dev/null | grep -Eq 'lib(a|ub)san' && sanitized=1
ctypes_check() { # as check, on builds python3 can load
    if [ "$sanitized" = 1 ]; then echo "skip - $1 (a sanitizer build: python3 cannot load the library)"; else check "$@"; fi
}
"$CLCNN" info m.model >info.out 2>info.err
rc=$?
check "info exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' info.err
"$CLCNN" summary m.model >summary.out 2>&1
check "summary is info" cmp -s info.out summary.out
"$CLCNN" info --model m.model >info-model.out 2>&1
check "info --model FILE is info FILE" cmp -s info.out info-model.out
total=$(sed -n 's/^Total params: //p' info.out | tr -d ,)
want=$total
[ "$sanitized" = 1 ] || want=$("$PY" "$CHECK" params "$LIB" m.model)
ctypes_check "info's total ($total) is clcnn_model_param_count ($want)" test -n "$total" -a "$total" = "$want"
rows=$(awk '/^=+$/ { inside = !inside; next } inside { gsub(",", "", $NF); sum += $NF } END { print sum }' info.out)
check "the layer rows add up to the total ($rows)" test "$rows" = "$total"
check "info: trainable = total" grep -qx "Trainable params: $(sed -n 's/^Total params: //p' info.out)" info.out
check "info: 8 layer rows, from conv_1 (Conv2D) to dense_3 (Dense)" \
    test "$(grep -cE '^ [a-z]+_[0-9]+ \(' info.out)" -eq 8 -a -n "$(grep -E '^ conv_1 \(Conv2D\) +\(None, 28, 28, 6\) +156$' info.out)" \
    -a -n "$(grep -E '^ dense_3 \(Dense\) +\(None, 10\) +850$' info.out)"
version=$("$PY" -c 'import struct, sys; print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 8)[0])' m.model)
check "info names the file's format version ($version) and kind" \
    grep -qx "Model: \"m.model\" (format version $version, model)" info.out
check "info: input shape and classes" grep -qx 'Input shape: (None, 28, 28, 1)' info.out
check "a model file has no training state" test -z "$(grep 'Training state' info.out)"
"$CLCNN" info --json m.model >info.json 2>&1
check "info --json: totals, version, shapes" "$PY" -c '
import json, sys
j = json.load(open("info.json"))
assert j["total_params"] == int(sys.argv[1]) == sum(l["params"] for l in j["layers"]), j
assert j["trainable_params"] == j["total_params"] and j["non_trainable_params"] == 0
assert j["format_version"] == int(sys.argv[2]) and j["file"] == "model" and "training_state" not in j
assert j["input_shape"] == [28, 28, 1] and j["classes"] == 10 and len(j["layers"]) == 8
assert j["layers"][2] == {"name": "conv_2", "kind": "conv", "type": "Conv2D", "output_shape": [10, 10, 16],
                          "params": 2416}, j["layers"][2]' "$want" "$version"
"$CLCNN" train --data data.npz --epochs 1 --batch-size 50 --seed 3 --checkpoint c.ck --device cpu --quiet >/dev/null 2>&1
"$CLCNN" info c.ck >ck.out 2>&1
check "info on a checkpoint: its training state" \
    grep -qx 'Training state: epoch 2, 0 of 600 examples done' ck.out
check "info on a checkpoint: step, seed, batch size, Adam" \
    test -n "$(grep -x '  step 12, seed 3, batch size 50' ck.out)" \
    -a -n "$(grep -x '  Adam: lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-07' ck.out)" \
    -a -n "$(grep -x "Model: \"c.ck\" (format version $version, checkpoint)" ck.out)"
"$CLCNN" info --json c.ck >ck.json 2>&1
check "info --json on a checkpoint" "$PY" -c '
import json, struct
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
s = json.load(open("ck.json"))["training_state"]
assert (s["epoch"], s["examples_done"], s["examples_total"], s["step"], s["seed"], s["batch_size"]) == \
    (2, 0, 600, 12, 3, 50), s
assert s["optimizer"] == "adam" and "sgd" not in s, s
adam = s["adam"]
assert [f32(adam[k]) for k in ("lr", "beta1", "beta2", "epsilon")] == [f32(x) for x in (1e-3, 0.9, 0.999, 1e-7)], adam'

# ------------------------------------------------------- eval's report
# edge.npz: the same training data, a test split with mistakes, exact ties
# and classes without examples or predictions; its images as edge.idx for
# clcnn predict, whose classes the figures are worked out from.
"$PY" "$CHECK" make data.npz edge.npz edge.idx
"$CLCNN" predict --model m.model --top 1 --device cpu edge.idx >edge-pred.out 2>&1
"$CLCNN" eval --model m.model --data edge.npz --device cpu --errors 8 --report r.csv >edge.out 2>edge.err
rc=$?
check "eval --errors 8 --report r.csv exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' edge.err
check "the report's figures, matrix, CSV and mistakes against an independent count" \
    "$PY" "$CHECK" check edge.npz edge-pred.out edge.out r.csv 8
check "no temporary files beside the report" test "$(ls | grep -c 'r\.csv\.')" -eq 0
eloss=0 eacc=0
[ "$sanitized" = 1 ] || read -r eloss eacc < <("$PY" "$CHECK" eval "$LIB" m.model edge.npz)
ctypes_check "eval's loss and accuracy are clcnn_model_evaluate's" \
    grep -q "^test: loss $(printf %.4f "$eloss") accuracy $(printf %.4f "$eacc") " edge.out
ctypes_check "the report's accuracy (the matrix's diagonal) is clcnn_model_evaluate's exactly" "$PY" -c '
import csv, sys
rows = list(csv.reader(open("r.csv")))[1:11]
n = sum(int(r[5]) for r in rows)
assert sum(int(r[7 + i]) for i, r in enumerate(rows)) == round(float(sys.argv[1]) * n), sys.argv[1]' "$eacc"
check "undefined figures print as -" grep -Eq '^9 +- +- +- +0$' edge.out
"$CLCNN" eval --model m.model --data edge.npz --device cpu --errors 1000 >edge-all.out 2>&1
check "--errors beyond the mistakes lists them all" "$PY" "$CHECK" check edge.npz edge-pred.out edge-all.out r.csv 1000
"$CLCNN" eval --model m.model --data edge.npz --device cpu >edge-none.out 2>&1
check "without --errors, no mistakes are listed" "$PY" "$CHECK" check edge.npz edge-pred.out edge-none.out r.csv 0
"$CLCNN" eval --model m.model --data data.npz --device cpu --errors 3 >clean.out 2>&1
check "a split without mistakes says so" grep -qx 'most confident mistakes (0 of 0)' clean.out
cp r.csv r-before.csv
mkdir -p adir
expect_error "--report into a missing directory" "no/such/dir" \
    "$CLCNN" eval --model m.model --data edge.npz --device cpu --report "$WORK/no/such/dir/r.csv"
expect_error "--report onto a directory" "adir" \
    "$CLCNN" eval --model m.model --data edge.npz --device cpu --report adir
check "a failed --report leaves nothing behind" test "$(ls | grep -c '\.tmp\.')" -eq 0 -a -z "$(ls adir)"
expect_error "--errors with a bad number" "--errors" \
    "$CLCNN" eval --model m.model --data edge.npz --device cpu --errors -1
expect_error "info without a file" "MODEL" "$CLCNN" info
expect_error "info on a missing file" "absent.model" "$CLCNN" info absent.model
expect_error "info on two files" "c.ck" "$CLCNN" info m.model c.ck
expect_error "info on a truncated file" "corrupt.model" "$CLCNN" info corrupt.model

# ---------------------------------------------------------- class names
# names.npz: data.npz's images with make_synthetic_npz.py's NAMES as a
# class_names array (quotes, a backslash, UTF-8); predict, info and eval
# show them, the model file and checkpoints keep them.
"$PY" "$HERE/make_synthetic_npz.py" names.npz --names=U
"$PY" "$HERE/make_synthetic_npz.py" names_s.npz --names=S
"$PY" "$HERE/make_synthetic_npz.py" --print-names >names.json
NAMES_PY="import json; NAMES = json.load(open('names.json'))"
"$CLCNN" train --data names.npz --epochs 1 --batch-size 32 --save n.model --checkpoint n.ck --device cpu --quiet \
    >/dev/null 2>ntrain.err
check "train on an .npz with class_names" test -s n.model -a ! -s ntrain.err
"$CLCNN" info --json n.model >ninfo.json 2>&1
check "info --json: the .npz's class names, in the model file" "$PY" -c "$NAMES_PY
import json
j = json.load(open('ninfo.json'))
assert j['class_names'] == NAMES and j['format_version'] == 3, j.get('class_names')"
"$CLCNN" info --json n.ck >nck.json 2>&1
check "the checkpoint keeps the class names" "$PY" -c "$NAMES_PY
import json
assert json.load(open('nck.json'))['class_names'] == NAMES"
"$CLCNN" info n.model >ninfo.out 2>&1
check "info lists the class names by id" \
    test -n "$(grep -x '    2  the "third"' ninfo.out)" -a -n "$(grep -x '    0  band 0' ninfo.out)"
check "info --json: class_names null without names" "$PY" -c '
import json; assert json.load(open("info.json"))["class_names"] is None'
"$CLCNN" train --data names_s.npz --epochs 1 --batch-size 32 --save ns.model --device cpu --quiet >/dev/null 2>&1
"$CLCNN" info --json ns.model >ns.json 2>&1
check "a '|S' class_names array gives the same names" "$PY" -c "$NAMES_PY
import json
assert json.load(open('ns.json'))['class_names'] == NAMES"

"$CLCNN" predict --model n.model --device cpu img.pgm >npred.out 2>&1
check "predict with names: 'name (id) probability', three by default" \
    grep -Eq '^img\.pgm: [^,]+ \([0-9]\) [01]\.[0-9]{4}(, [^,]+ \([0-9]\) [01]\.[0-9]{4}){2}$' npred.out
"$CLCNN" predict --model n.model --device cpu --top 2 --json img.pgm edge.idx >npred.json 2>&1
check "predict --json: one object per image, top 2, names escaped, probabilities of predict" "$PY" -c "$NAMES_PY
import json
lines = open('npred.json').read().splitlines()
text = open('npred.out').read().split(': ', 1)[1].split(', ')
objs = [json.loads(l) for l in lines]
assert len(objs) == 1 + sum(1 for l in open('edge-pred.out')), len(objs)
assert objs[0]['input'] == 'img.pgm' and objs[0]['index'] == 0 and objs[1]['input'] == 'edge.idx'
assert [o['index'] for o in objs[1:]] == list(range(len(objs) - 1))
for o in objs:
    assert len(o['top']) == 2 and o['top'][0]['probability'] >= o['top'][1]['probability'], o
    for t in o['top']:
        assert t['name'] == NAMES[t['class']], t
for t, shown in zip(objs[0]['top'], text):  # the text output's first two
    assert shown == '%s (%d) %.4f' % (t['name'], t['class'], t['probability']), (shown, t)"
"$CLCNN" predict --model m.model --device cpu --json --top 50 img.pgm >pred.json 2>&1
check "predict --json without names: name null; --top above the classes shows them all" "$PY" -c '
import json
o = json.loads(open("pred.json").read())
assert len(o["top"]) == 10 and all(t["name"] is None for t in o["top"]), o
assert sorted(t["class"] for t in o["top"]) == list(range(10))
assert abs(sum(t["probability"] for t in o["top"]) - 1) < 1e-5'
"$CLCNN" predict --model m.model --device cpu --top 2 img.pgm >pred2.out 2>&1
check "predict without names keeps 'id (probability)'" grep -Eq '^img\.pgm: [0-9] \([01]\.[0-9]{4}\), [0-9] \([01]\.[0-9]{4}\)$' pred2.out
expect_error "predict --top 0" "--top" "$CLCNN" predict --model n.model --device cpu --top 0 img.pgm
expect_error "predict --top 4097" "--top" "$CLCNN" predict --model n.model --device cpu --top 4097 img.pgm
"$CLCNN" eval --model n.model --data names.npz --device cpu --errors 3 >neval.out 2>&1
check "eval's report names the classes" \
    test -n "$(grep -E '^the "third" \(2\) +[01]\.[0-9]{4} ' neval.out)" -a -n "$(grep -E '^band 0 \(0\) +[0-9]+ ' neval.out)"

# docs/model-format.md's Python reader (numpy) reads version 3 and older.
if "$PY" -c 'import numpy' 2>/dev/null; then
    awk '/^```python/ { f = 1; next } /^```/ { f = 0 } f' "$HERE/../docs/model-format.md" >reader.py
    check "docs/model-format.md's reader: names, layers and parameters of versions 3, 2 and 1" "$PY" -c "$NAMES_PY
exec(open('reader.py').read())
shape, layers, params, names = read_model('n.model')
assert shape == (28, 28, 1) and len(layers) == 8 and sum(p.size for p in params) == 61706 and names == NAMES
assert read_model('m.model')[3] == []
assert read_model('$HERE/fixtures/small_v2.model')[3] == [] and read_model('$HERE/fixtures/lenet5_v1.model')[3] == []"
else
    echo "skip - docs/model-format.md's reader (no numpy for $PY)"
fi
check "eval's columns line up in characters, names beyond ASCII too" "$PY" -c '
rows = [l for l in open("neval.out", encoding="utf-8") if l.startswith(("band 0 (0)", "b\u00e4nd 4 (4)"))]
assert len(rows) == 4 and rows[0].index("1.0000") == rows[1].index("1.0000"), rows
assert rows[2].index(" 17 ") < len(rows[2]) and len(rows[2].rstrip()) == len(rows[3].rstrip()), rows'

# --class-names FILE: one name per line, overriding the data's.
printf 'zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n' >names.txt
"$CLCNN" train --data names.npz --epochs 1 --batch-size 50 --class-names names.txt --save f.model \
    --checkpoint f.ck --device cpu --quiet >/dev/null 2>&1
"$CLCNN" info --json f.model >f.json 2>&1
"$CLCNN" info --json f.ck >fck.json 2>&1
check "--class-names FILE: the model and its checkpoint hold the file's names" "$PY" -c '
import json
want = "zero one two three four five six seven eight nine".split()
assert json.load(open("f.json"))["class_names"] == want
assert json.load(open("fck.json"))["class_names"] == want'
printf 'a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj' >crlf.txt
"$CLCNN" train --data data.npz --epochs 1 --batch-size 50 --class-names crlf.txt --save crlf.model \
    --device cpu --quiet >/dev/null 2>&1
"$CLCNN" info --json crlf.model >crlf.json 2>&1
check "--class-names: CRLF line ends and no final newline" "$PY" -c '
import json; assert json.load(open("crlf.json"))["class_names"] == list("abcdefghij")'
(head -n 9 names.txt; printf '%0255d\n' 9) >longest.txt
"$CLCNN" train --data data.npz --epochs 1 --batch-size 50 --class-names longest.txt --save longest.model \
    --device cpu --quiet >/dev/null 2>&1
"$CLCNN" eval --model longest.model --data data.npz --device cpu --report longest.csv >longest.out 2>&1
check "a name of 255 bytes, whole in eval's report and its CSV" \
    test "$(grep -c "^$(printf '%0255d' 9) (9) " longest.out)" -eq 2 -a -n "$(grep "^9,$(printf '%0255d' 9) (9)," longest.csv)"
printf 'zero\none\n\nthree\n' >empty-line.txt
expect_error "--class-names: an empty line" "empty-line.txt: line 3: class name is empty" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names empty-line.txt --device cpu --quiet
head -n 9 names.txt >nine.txt
expect_error "--class-names: too few names" "nine.txt: 9 class names (lines), the model has 10 classes" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names nine.txt --device cpu --quiet
(cat names.txt; echo ten) >eleven.txt
expect_error "--class-names: too many names" "eleven.txt: more than the model's 10 classes (line 11)" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names eleven.txt --device cpu --quiet
(head -n 4 names.txt; printf '%0256d\n' 0; tail -n 5 names.txt) >long.txt
expect_error "--class-names: an over-long name" "long.txt: line 5: class name is 256 bytes long (at most 255)" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names long.txt --device cpu --quiet
(head -n 6 names.txt; printf 'tab\there\n'; tail -n 3 names.txt) >tab.txt
expect_error "--class-names: a control character" "tab.txt: line 7: class name holds the control character 0x09" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names tab.txt --device cpu --quiet
expect_error "--class-names: a missing file" "absent.txt: cannot read the class names" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names absent.txt --device cpu --quiet
expect_error "--class-names: a directory" "adir: cannot read the class names" \
    "$CLCNN" train --data data.npz --epochs 1 --class-names adir --device cpu --quiet

# The default data (Fashion-MNIST) names its ten classes; a short run (100
# training images) is enough to see them kept.  Not under valgrind or the
# sanitizers (CLCNN_TEST_INSTRUMENTED): the run still loads all 70,000
# images and validates on 59,900 (ten minutes under valgrind, four under
# ASan); the other class-name rows check the same code under them.
if [ "${CLCNN_TEST_INSTRUMENTED:-0}" = 1 ]; then
    echo "skip - the default data's class names (instrumented: a pass over the whole data set)"
elif [ -d /usr/share/datasets/fashion-mnist ]; then
    "$CLCNN" train --epochs 1 --valid-size 59900 --save fashion.model --device cpu --quiet >/dev/null 2>&1
    "$CLCNN" info --json fashion.model >fashion.json 2>&1
    check "the default data's class names are Fashion-MNIST's" "$PY" -c '
import json
assert json.load(open("fashion.json"))["class_names"] == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]'
else
    echo "skip - the default data's class names (Fashion-MNIST is not installed)"
fi

# --------------------------------------------------------------- errors
expect_error "missing --data path" "no-such-data.npz" \
    "$CLCNN" train --data "$WORK/no-such-data.npz" --epochs 1 --device cpu --quiet
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
