#!/usr/bin/env bash
# What bench/compare.py needs beyond scripts/setup.sh: Debian's PyTorch
# with OpenBLAS (without libopenblas0 its dense layers fall back to the
# reference BLAS), linux-perf for profiles, and build/bench-venv holding
# ONNX Runtime, TensorFlow (tensorflow-cpu 2.17, the newest that accepts
# Debian's numpy 1.24) and tinygrad, made with --system-site-packages so
# that it sees python3-torch, with numpy held at Debian's version.
# Not part of the test run.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh python3-torch libopenblas0 linux-perf

venv=build/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime, tensorflow, tinygrad' 2>/dev/null; then
  echo "bench/setup.sh: installing ONNX Runtime, TensorFlow and tinygrad into $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  numpy=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')
  echo "numpy==$numpy" >"$venv/constraints.txt"
  "$venv/bin/pip" --disable-pip-version-check install --quiet -c "$venv/constraints.txt" \
    "tensorflow-cpu==2.17.*" onnxruntime tinygrad
fi
"$venv/bin/python" -c 'import numpy, onnxruntime, tensorflow, tinygrad; print("bench/setup.sh: numpy", numpy.__version__,
  "onnxruntime", onnxruntime.__version__, "tensorflow", tensorflow.__version__)' 2>/dev/null
