#!/bin/bash
# clcnn devices --check on the OpenCL implementation this run selects
# (OCL_ICD_VENDORS): every family passes on the real kernels, and a kernel
# made wrong on purpose (average pooling divides by one too many) fails the
# pool check, only it, with a non-zero exit, in text and in JSON.
#
#   tests/test_device_check.sh path/to/clcnn path/to/cl
#
# Exit 0: all passed; 1: a failure; 77: skipped (no OpenCL device).
set -u
CLCNN=${1:?usage: test_device_check.sh path/to/clcnn path/to/cl}
CL_DIR=${2:?usage: test_device_check.sh path/to/clcnn path/to/cl}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-check-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }

if ! "$CLCNN" devices | grep -q '^  opencl:'; then
    echo "skipping: no OpenCL device (clcnn devices lists none)"
    exit 77
fi
devices=$("$CLCNN" devices | grep -c '^  opencl:')

# ---------------------------------------------------------------- the kernels as built
"$CLCNN" devices --check >"$WORK/ok.txt" 2>&1
rc=$?
cat "$WORK/ok.txt"
[ $rc -eq 0 ] && pass "devices --check exits 0 on the real kernels" || fail "devices --check exit status $rc"
for family in build "conv (direct)" "dense (direct)" pool lrn activation loss adam gather dropout sgd "training step"; do
    n=$(grep -cE "^  $(printf '%s' "$family" | sed 's/[()]/\\&/g') +pass " "$WORK/ok.txt")
    [ "$n" -eq "$devices" ] && pass "'$family' passes on each device" || fail "'$family' passes on $n of $devices devices"
done
[ "$(grep -c '^verdict: .* passes' "$WORK/ok.txt")" -eq "$devices" ] && pass "a passing verdict per device" ||
    fail "a passing verdict per device"

# ---------------------------------------------------------------- a wrong kernel
mkdir "$WORK/cl" && cp "$CL_DIR"/*.cl "$WORK/cl/" || exit 1
sed -i 's|acc / (float)(kh \* kw)|acc / (float)(kh * kw + 1)|' "$WORK/cl/pool.cl"
cmp -s "$CL_DIR/pool.cl" "$WORK/cl/pool.cl" && { echo "FAIL - the sed no longer changes pool.cl"; exit 1; }
export CLCNN_KERNEL_DIR="$WORK/cl" CLCNN_CACHE=0
"$CLCNN" devices --check --device opencl:0:0 >"$WORK/bad.txt" 2>&1
rc=$?
cat "$WORK/bad.txt"
[ $rc -eq 1 ] && pass "a wrong pooling kernel: exit status 1" || fail "a wrong pooling kernel: exit status $rc"
grep -qE '^  pool +FAIL .*case [0-9]+: error' "$WORK/bad.txt" && pass "the pool line fails, saying why" ||
    fail "the pool line fails, saying why"
[ "$(grep -c ' FAIL ' "$WORK/bad.txt")" -eq 1 ] && pass "no other line fails" || fail "no other line fails"
grep -q '^verdict: opencl:0:0 FAILS' "$WORK/bad.txt" && pass "the verdict fails" || fail "the verdict fails"

"$CLCNN" devices --check --device opencl:0:0 --json >"$WORK/bad.json" 2>"$WORK/bad.err"
rc=$?
if "$PY" - "$WORK/bad.json" <<'PYEOF'; then pass "--json: parses; pool alone fails (exit $rc)"; else fail "--json"; fi
import json, sys
r = json.load(open(sys.argv[1]))
assert r["passed"] is False, r["passed"]
(dev,) = r["devices"]
assert dev["device"] == "opencl:0:0" and dev["backend"] == "opencl", dev
failed = [c["name"] for c in dev["checks"] if not c["passed"]]
assert failed == ["pool"], failed
pool = next(c for c in dev["checks"] if c["name"] == "pool")
assert pool["worst_error"] > 1e-4 and pool["message"].startswith("case "), pool
PYEOF
[ $rc -eq 1 ] || fail "--json exit status $rc"

# ---------------------------------------------------------------- no such device
unset CLCNN_KERNEL_DIR CLCNN_CACHE
"$CLCNN" devices --check --device opencl:99:0 >"$WORK/none.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qE '^  build +FAIL .*99' "$WORK/none.txt" && pass "a device that does not exist: a failed build line naming it" ||
    { cat "$WORK/none.txt"; fail "a device that does not exist (exit $rc)"; }

# ---------------------------------------------------------------- usage
"$CLCNN" devices --json >/dev/null 2>&1
[ $? -eq 2 ] && pass "--json without --check is a usage error" || fail "--json without --check"

[ $failures -eq 0 ] && echo "all passed" || echo "$failures failed"
[ $failures -eq 0 ]
