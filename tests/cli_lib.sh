# What the CLI test scripts share (sourced): pass/fail bookkeeping in
# $failures, check, and expect_error.  The caller sets `failures=0` and ends
# with `[ "$failures" -eq 0 ]`.

pass() { echo "ok   - $1"; }
fail() {
    echo "FAIL - $1"
    failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# One line on stderr, naming what is wrong, and a non-zero exit:
# expect_error DESCRIPTION TEXT COMMAND...
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
