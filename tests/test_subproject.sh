#!/bin/bash
# clcnn as a meson subproject: copies tests/subproject/ (a tiny application
# whose meson.build says dependency('clcnn', fallback: 'clcnn')) to a temp
# dir, links subprojects/clcnn to this source tree, configures and builds it
# with a fresh meson, and runs the program.  Only the application's target
# (and so the clcnn library) is built, not clcnn's own tests or program.
#
#   tests/test_subproject.sh path/to/clcnn-source-tree
#
# Exit 0: passed; 1: failed; 77: skipped (no meson or ninja).
set -u

SRC=$(cd "${1:?usage: test_subproject.sh clcnn-source-tree}" && pwd)
MESON=${MESON:-$(command -v meson || true)}
if [ -z "$MESON" ] || ! command -v ninja >/dev/null; then
    echo "skipping: meson or ninja not found"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-subproject-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/app/subprojects" || exit 1
cp "$SRC/tests/subproject/meson.build" "$SRC/tests/subproject/consumer.c" "$WORK/app/" || exit 1
ln -s "$SRC" "$WORK/app/subprojects/clcnn" || exit 1

# --force-fallback-for: use the subproject even where a clcnn is installed.
# -Dclcnn:native=false keeps the build portable (and the flags the same as
# a distribution would use).
if ! "$MESON" setup "$WORK/build" "$WORK/app" --force-fallback-for=clcnn -Dclcnn:native=false \
    >"$WORK/setup.log" 2>&1; then
    echo "FAIL - meson setup of the consumer project:"
    tail -n 30 "$WORK/setup.log"
    exit 1
fi
if ! grep -q "clcnn" "$WORK/setup.log" || grep -q "Run-time dependency clcnn found: YES" "$WORK/setup.log"; then
    echo "FAIL - dependency('clcnn') was not taken from the subproject:"
    grep -i clcnn "$WORK/setup.log"
    exit 1
fi
echo "ok   - meson setup with subprojects/clcnn"

if ! "$MESON" compile -C "$WORK/build" consumer >"$WORK/compile.log" 2>&1; then
    echo "FAIL - building the consumer against the clcnn subproject:"
    tail -n 40 "$WORK/compile.log"
    exit 1
fi
echo "ok   - consumer built against dependency('clcnn')"

if ! out=$("$WORK/build/consumer" 2>&1); then
    echo "FAIL - consumer: $out"
    exit 1
fi
case "$out" in
*"max pool = 4"*) echo "ok   - consumer ran: $out" ;;
*)
    echo "FAIL - unexpected consumer output: $out"
    exit 1
    ;;
esac
echo "all passed"
exit 0
