#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/ and runs
# each for SECONDS (default 30), starting from fuzz/corpus/<target>/.
# Fails if any target finds a crash, a leak, a sanitizer report or a
# timeout; the reproducer is left in build-fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     targets: npy idx npz model image spec onnx
#   fuzz/run.sh --make-corpus             rewrites the model and idx seeds
#
# New inputs the fuzzer finds go to build-fuzz/corpus/<target>/ (not to the
# committed seeds); see fuzz/README.md for minimising and keeping them.
set -uo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Dnative=false --buildtype=debugoptimized >/dev/null || {
    echo "fuzz: cannot configure $build (needs clang and libclang-rt-dev)"; exit 1; }
fi
# onnx: only in a build with -Donnx (protobuf-c)
onnx_target=()
grep -q 'fuzz/fuzz_onnx' "$build/build.ninja" && onnx_target=(onnx)
ninja -C "$build" fuzz/fuzz_npy fuzz/fuzz_idx fuzz/fuzz_npz fuzz/fuzz_model fuzz/fuzz_image fuzz/fuzz_spec "${onnx_target[@]/#/fuzz/fuzz_}" fuzz/make_corpus >/dev/null || {
  echo "fuzz: build failed"; exit 1; }

if [ "${1:-}" = "--make-corpus" ]; then
  exec "$build/fuzz/make_corpus" fuzz/corpus
fi

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy idx npz model image spec "${onnx_target[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
passed=0
failed=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  art="$build/artifacts/$t"
  log="$build/fuzz-$t.log"
  mkdir -p "$work" "$art"
  # -timeout: one input taking over 10 s is a bug (a hang); -rss_limit_mb:
  # no input of a few kilobytes may make the loaders use 2 GB.
  "$build/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: OK (${runs:-?} inputs in ${seconds} s)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED (exit $rc); log $log, reproducer in $art/:"
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -8 | sed 's/^/  /'
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
