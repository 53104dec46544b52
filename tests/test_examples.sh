#!/bin/bash
# The installed tree, as an embedding application sees it:
#  - `meson install --destdir` puts libclcnn.so (+ symlinks), libclcnn.a,
#    include/clcnn.h, pkgconfig/clcnn.pc and bin/clcnn in place, and the .pc
#    file carries what a static link needs (Requires.private, Libs.private);
#  - examples/classify.c and examples/train_custom.c build with
#    `cc ... $(pkg-config --cflags --libs clcnn)` against the staged tree
#    (the prefix fixed up with --define-variable), and classify also links
#    statically with `pkg-config --static`;
#  - train_custom trains on a small synthetic set and saves a model;
#    classify labels a PGM and an IDX file written here with that model,
#    and fails cleanly on bad input.
#
#   tests/test_examples.sh path/to/build-dir path/to/source-dir
#
# Exit 0: all passed; 1: a failure (each printed); 77: skipped (no meson,
# pkg-config or C compiler).
set -u

BUILD=$(cd "${1:?usage: test_examples.sh build-dir source-dir}" && pwd)
SRC=$(cd "${2:?usage: test_examples.sh build-dir source-dir}" && pwd)
CC=${CC:-cc}
MESON=${MESON:-$(command -v meson || true)}
for tool in "$MESON" pkg-config "$CC"; do
    if [ -z "$tool" ] || ! command -v "$tool" >/dev/null; then
        echo "skipping: meson, pkg-config or a C compiler not found"
        exit 77
    fi
done
# The CPU backend unless the caller chose: quick and reproducible.
export CLCNN_DEVICE=${CLCNN_DEVICE:-cpu}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-examples-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }

# --------------------------------------------------------------- install
# --no-rebuild: meson test has already built everything, and a ninja run
# inside a test would race the one that started it.
if ! "$MESON" install -C "$BUILD" --destdir "$WORK/stage" --no-rebuild >install.log 2>&1; then
    echo "FAIL - meson install --destdir:"
    tail -n 20 install.log
    exit 1
fi
PC=$(find "$WORK/stage" -name clcnn.pc -path '*/pkgconfig/*' | head -n 1)
if [ -z "$PC" ]; then
    echo "FAIL - no pkgconfig/clcnn.pc installed"
    exit 1
fi
PCDIR=$(dirname "$PC")
PREFIX=$(pkg-config --variable=prefix "$PC")
STAGED=$WORK/stage$PREFIX
pc() { PKG_CONFIG_PATH=$PCDIR pkg-config --define-variable=prefix="$STAGED" "$@" clcnn; }
LIBDIR=$(pc --variable=libdir)
INCDIR=$(pc --variable=includedir)
pass "installed under prefix $PREFIX (libdir ${LIBDIR#"$STAGED"/})"

for f in "$LIBDIR/libclcnn.a" "$INCDIR/clcnn.h" "$STAGED/bin/clcnn"; do
    if [ -f "$f" ]; then pass "installed ${f#"$STAGED"/}"; else fail "missing ${f#"$STAGED"/}"; fi
done
if [ -L "$LIBDIR/libclcnn.so" ] && [ -L "$LIBDIR/libclcnn.so.0" ] && [ -f "$(readlink -f "$LIBDIR/libclcnn.so")" ]; then
    pass "installed libclcnn.so -> $(readlink "$LIBDIR/libclcnn.so") -> $(readlink "$LIBDIR/libclcnn.so.0")"
else
    fail "libclcnn.so and its symlinks are not all installed"
    ls -l "$LIBDIR"
fi
if [ "$(readelf -d "$LIBDIR/libclcnn.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = libclcnn.so.0 ]; then
    pass "SONAME libclcnn.so.0"
else
    fail "SONAME is not libclcnn.so.0"
fi
if "$STAGED/bin/clcnn" --version >version.txt 2>&1 && grep -q '^clcnn [0-9]' version.txt; then
    pass "bin/clcnn runs: $(cat version.txt)"
else
    fail "bin/clcnn --version: $(cat version.txt)"
fi

# What a static link needs: every library libclcnn.so depends on.
if grep -q '^Requires.private:.*zlib' "$PC"; then pass ".pc: Requires.private has zlib"; else fail ".pc lacks zlib"; fi
if readelf -d "$LIBDIR/libclcnn.so" | grep -q 'NEEDED.*libOpenCL'; then
    if grep -q '^Requires.private:.*OpenCL' "$PC" && grep -q '^Requires.private:.*clblast' "$PC"; then
        pass ".pc: Requires.private has OpenCL and clblast"
    else
        fail ".pc: the library uses OpenCL, but Requires.private lacks OpenCL or clblast"
    fi
fi
if grep -q '^Libs.private:.*-lm' "$PC" && grep -q '^Libs.private:.*-pthread' "$PC"; then
    pass ".pc: Libs.private has -lm and -pthread"
else
    fail ".pc: Libs.private lacks -lm or -pthread: $(grep '^Libs.private' "$PC")"
fi
cflags=$(pc --cflags | sed 's/[[:space:]]*$//')
if [ "$cflags" = "-I$INCDIR" ]; then
    pass ".pc: Cflags -I\${includedir}"
else
    fail ".pc: unexpected Cflags \"$cflags\" (want -I$INCDIR)"
fi

# ---------------------------------------------------------------- build
CFLAGS="-std=c11 -Wall -Wextra -Werror -pedantic -O2"
for ex in classify train_custom; do
    # shellcheck disable=SC2046,SC2086
    if "$CC" $CFLAGS -o "$ex" "$SRC/examples/$ex.c" $(pc --cflags --libs) 2>"$ex.err"; then
        pass "built $ex with \$(pkg-config --cflags --libs clcnn)"
    else
        fail "building $ex:"
        sed 's/^/       /' "$ex.err"
    fi
done
# Static: libclcnn.a and the private requirements from pkg-config --static.
static_libs=$(pc --static --libs | sed 's/-lclcnn\b/-Wl,-Bstatic -lclcnn -Wl,-Bdynamic/')
# shellcheck disable=SC2086
if "$CC" $CFLAGS -o classify_static "$SRC/examples/classify.c" $(pc --cflags) $static_libs 2>static.err; then
    if readelf -d classify_static | grep -q 'NEEDED.*libclcnn'; then
        fail "classify_static still needs libclcnn.so"
    else
        pass "built classify statically with \$(pkg-config --static --libs clcnn)"
    fi
else
    fail "static link of classify with: $static_libs"
    sed 's/^/       /' static.err
fi
if [ ! -x classify ] || [ ! -x train_custom ]; then
    echo "$failures failure(s)"
    exit 1
fi
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ldd ./classify | grep -q "$LIBDIR/libclcnn.so"; then
    pass "classify runs with the staged libclcnn.so"
else
    fail "classify does not resolve libclcnn.so to the staged copy: $(ldd ./classify | grep clcnn)"
fi

# ------------------------------------------------------------------ run
start=$SECONDS
if ./train_custom --synthetic --count 1200 --save custom.model >train.out 2>train.err; then
    pass "train_custom --synthetic --count 1200 ($((SECONDS - start)) s)"
else
    fail "train_custom exited with status $?:"
    sed 's/^/       /' train.out train.err
fi
test_acc=$(sed -n 's/^test: loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' train.out)
if [ -n "$test_acc" ] && awk -v a="$test_acc" 'BEGIN { exit !(a >= 0.8) }'; then
    pass "train_custom learned the synthetic task (test accuracy $test_acc)"
else
    fail "train_custom test accuracy \"$test_acc\" (want >= 0.8)"
    sed 's/^/       /' train.out
fi
if [ -s custom.model ] && grep -q '^saved custom.model$' train.out; then
    pass "train_custom saved custom.model"
else
    fail "train_custom did not save custom.model"
fi

# A 28x28 image of class K in train_custom's synthetic task (a bright bar
# across rows 2+2K and 3+2K, columns 4..23), as raw bytes.
image_bytes() {
    local k=$1 r c
    for ((r = 0; r < 28; r++)); do
        for ((c = 0; c < 28; c++)); do
            if ((r >= 2 + 2 * k && r < 4 + 2 * k && c >= 4 && c < 24)); then
                printf '\377'
            else
                printf '\000'
            fi
        done
    done
}
{ printf 'P5\n# class 3\n28 28\n255\n'; image_bytes 3; } >bar3.pgm
# An IDX image file: magic 0x00000803, count 2, 28 rows, 28 columns.
{ printf '\000\000\010\003\000\000\000\002\000\000\000\034\000\000\000\034'; image_bytes 7; image_bytes 1; } >two.idx
{ printf 'P5\n10 10\n255\n'; head -c 100 /dev/zero; } >small.pgm

out=$(./classify custom.model bar3.pgm two.idx 2>classify.err)
status=$?
if [ $status -eq 0 ] && [ ! -s classify.err ]; then
    pass "classify exits 0 and is silent on stderr"
else
    fail "classify exited with $status: $(cat classify.err)"
fi
check_line() { # check_line PATTERN WHAT
    if printf '%s\n' "$out" | grep -Eq "$1"; then pass "$2"; else fail "$2 (output: $out)"; fi
}
check_line '^bar3\.pgm: class 3 \(p = (0\.[0-9]{4}|1\.0000)\)$' "classify: the PGM is class 3"
check_line '^two\.idx\[0\]: class 7 \(p = ' "classify: IDX image 0 is class 7"
check_line '^two\.idx\[1\]: class 1 \(p = ' "classify: IDX image 1 is class 1"
if [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ]; then pass "classify: one line per image"; else fail "classify: $out"; fi
if [ -x classify_static ]; then
    static_out=$(./classify_static custom.model bar3.pgm 2>&1)
    if [ "$static_out" = "$(printf '%s\n' "$out" | head -n 1)" ]; then
        pass "the static classify gives the same answer"
    else
        fail "the static classify: $static_out"
    fi
fi

# Errors: one line on stderr and exit 1 (2 for usage).
./classify >/dev/null 2>&1
if [ $? -eq 2 ]; then pass "classify without arguments exits 2"; else fail "classify without arguments"; fi
expect_error() { # expect_error WHAT PATTERN ARGS...
    local what=$1 pattern=$2
    shift 2
    ./classify "$@" >err.out 2>err.txt
    local st=$?
    if [ $st -eq 1 ] && [ "$(wc -l <err.txt)" -ge 1 ] && grep -q "$pattern" err.txt; then
        pass "classify $what: exit 1, \"$(head -n 1 err.txt)\""
    else
        fail "classify $what: exit $st, stderr \"$(cat err.txt)\""
    fi
}
expect_error "with a missing model" "no-such.model" no-such.model bar3.pgm
expect_error "with a file that is not a model" "bar3.pgm" bar3.pgm bar3.pgm
expect_error "with a 10x10 image" "10x10" custom.model small.pgm
expect_error "with a missing image" "no-such.pgm" custom.model no-such.pgm

if [ -d /usr/share/datasets/fashion-mnist ]; then
    # The default data set, when installed: a quick run that must learn.
    if ./train_custom --count 1000 --save fashion.model >fashion.out 2>fashion.err; then
        pass "train_custom on Fashion-MNIST (1000 images): $(grep '^test:' fashion.out)"
    else
        fail "train_custom on Fashion-MNIST:"
        sed 's/^/       /' fashion.out fashion.err
    fi
else
    echo "skip - /usr/share/datasets/fashion-mnist not installed"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
exit 0
