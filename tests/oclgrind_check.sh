#!/bin/bash
# Runs a test under Oclgrind (the oclgrind test setup in meson.build) and
# fails it when Oclgrind reports anything: Oclgrind prints its findings
# (out-of-bounds accesses, data races, barrier divergence, API misuse) but
# never changes the program's exit status.
#
#   tests/oclgrind_check.sh PROGRAM [ARGS...]
#
# Every process of the test appends to one FIFO named by OCLGRIND_LOG (a
# plain file would be truncated by each process that opens it: Check forks
# one per test), read into a file here.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-oclgrind-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/fifo" || exit 1
cat "$dir/fifo" >"$dir/log" &
reader=$!
exec 3<>"$dir/fifo" # held open, so the reader sees EOF only once we close it
OCLGRIND_LOG="$dir/fifo" "$@"
rc=$?
exec 3>&-
wait "$reader"
if [ -s "$dir/log" ]; then
    echo "oclgrind reported (the test's own status: $rc):" >&2
    cat "$dir/log" >&2
    exit 1
fi
exit "$rc"
