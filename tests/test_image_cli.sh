#!/bin/bash
# clcnn train and predict on an image folder (PNG, written by test_images
# --make-folder): the folder's class names kept in the model and printed by
# predict; --augment reproducible from the seed, and refused when malformed;
# a broken image stops training with one line naming it.
#
#   tests/test_image_cli.sh path/to/clcnn path/to/test_images
set -u

CLCNN=$(realpath "${1:?usage: test_image_cli.sh path/to/clcnn path/to/test_images}")
MAKE=$(realpath "${2:?usage: test_image_cli.sh path/to/clcnn path/to/test_images}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-image-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
failures=0
pass() { echo "ok   - $1"; }
fail() {
    echo "FAIL - $1"
    failures=$((failures + 1))
}

"$MAKE" --make-folder folder
rc=$?
[ $rc -eq 77 ] && { echo "skipping: clcnn was built without libpng or libjpeg"; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL - could not write the image folder"; exit 1; }

train=("$CLCNN" train --device cpu --data folder --epochs 3 --batch-size 8 --seed 4 --valid-size 0 --quiet)
names='(ant|bee|cat|dog|eel|fox|gnu|hen|owl|yak)'
if "${train[@]}" --save plain.model >out.txt 2>err.txt && grep -q '^test: loss [0-9.]* accuracy [0-9.]* (20 images)$' out.txt; then
    pass "train on an image folder: $(cat out.txt)"
else
    fail "train on an image folder: $(cat out.txt err.txt)"
fi
if "$CLCNN" predict --device cpu --model plain.model folder/one.png >pred.txt 2>err.txt &&
    grep -Eq "^folder/one.png: $names \([0-9]\) [0-9.]+, $names \([0-9]\) [0-9.]+, $names \([0-9]\) [0-9.]+$" pred.txt; then
    pass "predict a PNG with the folder's class names: $(cat pred.txt)"
else
    fail "predict a PNG: $(cat pred.txt err.txt)"
fi

"${train[@]}" --augment crop:3,flip --save aug1.model >/dev/null 2>err.txt || fail "train --augment: $(cat err.txt)"
"${train[@]}" --augment crop:3,flip --save aug2.model >/dev/null 2>err.txt || fail "train --augment: $(cat err.txt)"
if cmp -s aug1.model aug2.model && ! cmp -s aug1.model plain.model; then
    pass "--augment crop:3,flip: the same seed, the same model (and not the unaugmented one)"
else
    fail "--augment crop:3,flip is not reproducible, or changes nothing"
fi
"${train[@]}" --augment flip --save flip.model >/dev/null 2>err.txt || fail "train --augment flip: $(cat err.txt)"
cmp -s flip.model aug1.model && fail "--augment flip trained the same model as crop:3,flip"

if "${train[@]}" --resume aug.ck --augment flip >/dev/null 2>err.txt; then
    fail "--resume with --augment was accepted"
elif grep -q "^clcnn train: --resume continues with the checkpoint's augmentation; drop --augment" err.txt; then
    pass "--resume refuses --augment (the checkpoint keeps its own)"
else
    fail "--resume with --augment: $(cat err.txt)"
fi

for bad in crop:0 crop:x crop:256 flip,flip crop:2,crop:3 jitter "" crop:2, ; do
    if "${train[@]}" --augment "$bad" >/dev/null 2>err.txt; then
        fail "--augment '$bad' was accepted"
    elif ! grep -q "^clcnn train: --augment wants crop:N" err.txt; then
        fail "--augment '$bad': $(cat err.txt)"
    fi
done
if "${train[@]}" --augment crop:28 >/dev/null 2>err.txt || ! grep -q "a crop of 28 takes a padding below" err.txt; then
    fail "--augment crop:28 on 28x28 images: $(cat err.txt)"
else
    pass "malformed --augment lists refused with one line"
fi

cp -r folder broken
echo "not an image" >broken/train/cat/zz.png
if "${train[@]}" --data broken >/dev/null 2>err.txt; then
    fail "a broken image was accepted"
elif [ "$(wc -l <err.txt)" -eq 1 ] && grep -q "broken/train/cat/zz.png: neither a PNG nor a JPEG" err.txt; then
    pass "a broken image: $(cat err.txt)"
else
    fail "a broken image: $(cat err.txt)"
fi

echo "$failures failure(s)"
[ $failures -eq 0 ]
