#!/bin/bash
# The Python package as a user installs it: `pip install .` of this source
# tree (meson-python builds libclcnn with meson, pyproject.toml) into a
# fresh virtual environment, then python/test_package.py run from a
# directory outside the tree, so that only the installed package can be
# imported.
#
#   python/test_package.sh path/to/clcnn-program work-dir
#
# The environment is /usr/bin/python3's, with --system-site-packages so it
# sees Debian's numpy; the build uses Debian's meson-python
# (python3-mesonpy) with --no-build-isolation, so nothing is downloaded.
# work-dir keeps meson-python's build directory and pip's cache between runs
# (a rerun recompiles nothing); the environment itself is made anew each
# time.  Exit 0: passed; 1: failed; 77: skipped (no venv, numpy or
# meson-python for /usr/bin/python3).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
CLI=$(realpath "${1:?usage: test_package.sh clcnn-program work-dir}")
mkdir -p "${2:?usage: test_package.sh clcnn-program work-dir}" || exit 1
WORK=$(cd "$2" && pwd)
PY=/usr/bin/python3

for mod in venv numpy mesonpy; do
    if ! "$PY" -c "import $mod" 2>/dev/null; then
        echo "skipping: $PY has no '$mod' module (Debian: python3-venv, python3-numpy, python3-mesonpy)"
        exit 77
    fi
done

VENV=$WORK/venv
rm -rf "$VENV"
"$PY" -m venv --system-site-packages "$VENV" || { echo "FAIL - python3 -m venv"; exit 1; }
# Only the build's own settings: the package must find its library unaided.
unset CLCNN_LIBRARY PYTHONPATH
export PIP_CACHE_DIR=$WORK/pip-cache PIP_DISABLE_PIP_VERSION_CHECK=1
# pip installs from a copy of the tree (no build*/ or .git): what a user's
# checkout holds, and meson-python 0.12 writes a file into the tree it
# builds.  Files keep their times, so the kept build directory stays valid
# and ninja rebuilds only what changed.  On a first run (no valid build
# directory) its stale native file must go, or it would only reconfigure.
COPY=$WORK/src
mkdir -p "$COPY" || exit 1
find "$COPY" -mindepth 1 -maxdepth 1 ! -name '.mesonpy-native-file.ini' -exec rm -rf {} +
[ -f "$WORK/wheel-build/meson-private/coredata.dat" ] || rm -f "$COPY/.mesonpy-native-file.ini"
tar -C "$SRC" --exclude='./build*' --exclude=./.git --exclude='./.mesonpy-*' -cf - . | tar -C "$COPY" -xf - ||
    { echo "FAIL - copying the source tree"; exit 1; }
if ! (cd "$WORK" && "$VENV/bin/python" -m pip install --no-build-isolation --no-deps --no-index \
        --config-settings=builddir="$WORK/wheel-build" "$COPY") >"$WORK/pip.log" 2>&1; then
    echo "FAIL - pip install of $SRC (copied to $COPY):"
    tail -n 40 "$WORK/pip.log"
    exit 1
fi
echo "pip: $(grep -m1 'Created wheel' "$WORK/pip.log" | sed 's/^ *//; s/ size=.*//')"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-package-XXXXXX")
trap 'rm -rf "$RUN"' EXIT
cp "$SRC/python/test_package.py" "$RUN/" || exit 1
cd "$RUN" && "$VENV/bin/python" test_package.py --venv "$VENV" --cli "$CLI" --source "$SRC"
