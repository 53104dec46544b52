#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: both backends, the numpy
# binding, the CLI.  Extra arguments go to `meson test`.
#
# Then the opencl suite on Intel's OpenCL CPU runtime (the meson test setup
# intel), for Oclgrind the oclgrind suite (any finding a failure), for Mesa
# rusticl the rusticl suite, and the reliability runs
# (docs/reliability.md), each in its own build directory: the cpu and opencl
# suites under ASan+UBSan (build-asan/), every fuzz target for 20 s
# (build-fuzz/), and the cpu suite under valgrind (build-valgrind/).  Each
# run has its own closing counts line.  CLCNN_TEST_QUICK=1 skips them all.
# The script fails if any of the runs fails.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
meson test -C build --print-errorlogs "$@"
rc=$?

# "LABEL: N passed, N failed, N skipped", read from a meson test log.
counts() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
counts = {}
try:
    for line in open(path):
        r = json.loads(line)["result"]
        counts[r] = counts.get(r, 0) + 1
except FileNotFoundError:
    counts["ERROR"] = 1  # the run did not get as far as writing its log
failed = sum(v for k, v in counts.items() if k not in ("OK", "SKIP", "EXPECTEDFAIL"))
print(f"{label}: {counts.get('OK', 0)} passed, {failed} failed, {counts.get('SKIP', 0)} skipped")
PY
}

lines=()
if [ "${CLCNN_TEST_QUICK:-0}" != 1 ]; then
  jobs=$(nproc 2>/dev/null || echo 2)

  # The opencl suite on Intel's runtime, the oclgrind suite under Oclgrind,
  # the rusticl suite on Mesa's rusticl (llvmpipe): setup NAME SUITE.  The
  # rusticl suite is the oclgrind case set (every kernel on both paths, odd
  # sizes, the ragged last batch) with the backend's own tests: rusticl
  # trains at about 100 images/s, too slow for the whole opencl suite in
  # CI's time (README.md, "OpenCL implementations").  Then the opencl suite
  # once more on PoCL with a small GPU's limits forced (setup limits:
  # work-groups of 32, 512 bytes of local memory).  The python-driven tests
  # (ONNX round trips through PyTorch and ONNX Runtime) run on PoCL only:
  # what they add is Python's side, and their C side runs in onnx-opencl.
  for run in "intel opencl" "oclgrind oclgrind" "rusticl rusticl" "limits opencl"; do
    read -r impl suite <<<"$run"
    echo "== $impl: the $suite suite (meson test setup $impl)"
    rm -f "build/meson-logs/testlog-$impl.json"
    start=$SECONDS
    meson test -C build --setup "$impl" --suite "$suite" --no-suite python-driven --no-rebuild --print-errorlogs \
      --num-processes "$jobs" || rc=1
    lines+=("$(counts "$impl" "build/meson-logs/testlog-$impl.json")")
    echo "${lines[-1]} ($((SECONDS - start)) s)"
  done

  # ASan+UBSan over the cpu suite (the numpy binding's tests are left out by
  # the asan setup: python3 is not instrumented).
  echo "== asan: the cpu suite under AddressSanitizer and UndefinedBehaviorSanitizer"
  if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan --buildtype=debugoptimized -Dnative=false \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  rm -f build-asan/meson-logs/testlog-asan.json
  if ninja -C build-asan >/dev/null; then
    meson test -C build-asan --setup asan --suite cpu --no-suite binding --print-errorlogs --num-processes "$jobs" || rc=1
  else
    echo "asan: build failed"; rc=1
  fi
  lines+=("$(counts asan build-asan/meson-logs/testlog-asan.json)")
  echo "${lines[-1]}"
  # The opencl suite (PoCL) under ASan+UBSan, without leak detection: the
  # driver leaks (asanopencl setup in meson.build).
  if meson introspect --tests build-asan 2>/dev/null | grep -q '"opencl"'; then
    echo "== asan: the opencl suite under ASan+UBSan (no leak detection)"
    rm -f build-asan/meson-logs/testlog-asanopencl.json
    meson test -C build-asan --setup asanopencl --suite opencl --no-suite binding --print-errorlogs \
      --num-processes "$jobs" || rc=1
    lines+=("$(counts asan-opencl build-asan/meson-logs/testlog-asanopencl.json)")
    echo "${lines[-1]}"
  fi

  # A short fuzz run of every loader (fuzz/README.md has the long one).
  echo "== fuzz: each loader's libFuzzer target for 20 s"
  fuzz_out=$(bash fuzz/run.sh 20)
  [ $? -eq 0 ] || rc=1
  echo "$fuzz_out"
  lines+=("$(echo "$fuzz_out" | tail -1)")

  # Valgrind over the cpu suite, on a portable build (no -march=native,
  # whose instructions valgrind may not know).
  echo "== valgrind: the cpu suite under valgrind memcheck"
  if [ ! -f build-valgrind/build.ninja ]; then
    meson setup build-valgrind --buildtype=debugoptimized -Dnative=false >/dev/null
  fi
  rm -f build-valgrind/meson-logs/testlog-valgrind.json
  if ninja -C build-valgrind >/dev/null; then
    # python-driven: the ONNX round trips through PyTorch and ONNX Runtime,
    # whose time is Python's; valgrind would check bash and python3 (their
    # own leaks), and their C side runs in onnx-cpu and onnx-conformance-cpu.
    meson test -C build-valgrind --setup valgrind --suite cpu --no-suite python-driven --print-errorlogs \
      --num-processes "$jobs" || rc=1
  else
    echo "valgrind: build failed"; rc=1
  fi
  lines+=("$(counts valgrind build-valgrind/meson-logs/testlog-valgrind.json)")
  echo "${lines[-1]}"
fi

# Closing lines with the counts: the main run (from meson's own log), then
# each reliability run.
counts meson build/meson-logs/testlog.json
for l in "${lines[@]}"; do echo "$l"; done
exit $rc
