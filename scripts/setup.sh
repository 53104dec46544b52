#!/usr/bin/env bash
# Installs the Debian packages clcnn needs (idempotent, no prompts), then
# configures and builds it in build/.  Extra packages may be named as
# arguments (bench/README.md's PyTorch comparison adds python3-torch).
#
# Then the OpenCL implementations the opencl suite also runs on, beside
# PoCL: Intel's CPU runtime (PyPI, in a virtual environment under build/),
# Mesa rusticl and Oclgrind (Debian).  Each gets a vendor directory
# build/icd/NAME/ holding one .icd file with the absolute path of its
# library, selected by OCL_ICD_VENDORS=build/icd/NAME (the test setups in
# meson.build); nothing is written to /etc/OpenCL/vendors.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc pkg-config meson ninja-build check zlib1g-dev
          ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd
          python3-numpy dataset-fashion-mnist
          clang libclang-rt-dev valgrind
          mesa-opencl-icd oclgrind python3-venv
          clang-15 rocm-device-libs  # scripts/kernel_resources.py: LLVM 15 bitcode
          python3-mesonpy  # the python-package test's pip build (docs/python.md), offline
          libpng-dev  # train --logdir's filter images (docs/tensorboard.md)
          libpng-dev libjpeg62-turbo-dev  # data: image folders, predict on .png/.jpg (docs/api.md)
          python3-pil  # fuzz/make_image_corpus.py (the image fuzzer's seeds)
          openmpi-bin libopenmpi-dev  # mpirun -n N clcnn train (docs/distributed.md)
          libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata  # -Donnx, its node tests (docs/onnx.md)
          python3-torch  # tests/test_onnx_torch.sh: models trained and exported by PyTorch (docs/onnx.md)
          libopenblas0 linux-perf  # bench/compare.py: PyTorch's BLAS; profiles (bench/README.md)
          "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build -Dwerror=true >/dev/null
else
  meson setup build --buildtype=release -Dwerror=true
fi
ninja -C build

# One vendor directory per implementation: vendor NAME LIBRARY.
vendor() {
  [ -f "$2" ] || { echo "setup: $1: no OpenCL library at '$2'" >&2; exit 1; }
  mkdir -p "build/icd/$1"
  echo "$2" >"build/icd/$1/$1.icd"
}
# The first file of Debian package $1 whose path matches the regex $2.
deb_file() { dpkg -L "$1" | grep -E -m1 "$2"; }

pocl_lib_pkg=$(dpkg-query -W -f='${Depends}' pocl-opencl-icd | grep -o -m1 'libpocl[0-9]*' | head -1)
vendor pocl "$(deb_file "$pocl_lib_pkg" '/libpocl\.so\.[0-9]+$')"
vendor rusticl "$(deb_file mesa-opencl-icd '/libRusticlOpenCL\.so\.[0-9]+$')"
vendor oclgrind "$(deb_file oclgrind '/liboclgrind-rt-icd\.so$')"

# Intel's runtime and the compiler run time it links (libimf, libsvml: same
# release); tbb comes as its dependency.  The environment sees Debian's
# packages, and numpy is held at Debian's version so pip never replaces it.
venv=build/intel-opencl-rt
pip="$venv/bin/pip --disable-pip-version-check"
if ! { $pip show intel-opencl-rt && $pip show intel-cmplr-lib-rt; } >/dev/null 2>&1; then
  echo "setup: installing intel-opencl-rt into $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  numpy=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')
  echo "numpy==$numpy" >"$venv/constraints.txt"
  $pip install --quiet -c "$venv/constraints.txt" intel-opencl-rt
  rt=$($pip show intel-opencl-rt | sed -n 's/^Version: //p')
  $pip install --quiet -c "$venv/constraints.txt" "intel-cmplr-lib-rt==$rt"
fi
# pip show -f lists the files relative to the Location line.
intel_lib=$($pip show -f intel-opencl-rt | awk '/^Location: /{loc=$2} $1 ~ /\/libintelocl\.so$/{print loc "/" $1; exit}')
vendor intel "$(realpath "$intel_lib")"

# TensorBoard, for the tests only (tests/test_tensorboard.sh reads the event
# files of `clcnn train --logdir` back with its EventAccumulator): PyPI's
# package (and Pillow, which decodes the PNG) in its own virtual
# environment, numpy held at Debian's version.
tb_venv=build/tensorboard-venv
tb_pip="$tb_venv/bin/pip --disable-pip-version-check"
if ! { $tb_pip show tensorboard && $tb_pip show pillow; } >/dev/null 2>&1; then
  echo "setup: installing tensorboard into $tb_venv"
  /usr/bin/python3 -m venv --system-site-packages "$tb_venv"
  numpy=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')
  echo "numpy==$numpy" >"$tb_venv/constraints.txt"
  $tb_pip install --quiet -c "$tb_venv/constraints.txt" tensorboard pillow
fi

# ONNX Runtime, for the tests only (tests/test_onnx_ort.sh runs the models
# clcnn export writes): PyPI's package in its own virtual environment,
# numpy held at Debian's version.
ort_venv=build/onnxruntime-venv
ort_pip="$ort_venv/bin/pip --disable-pip-version-check"
if ! $ort_pip show onnxruntime >/dev/null 2>&1; then
  echo "setup: installing onnxruntime into $ort_venv"
  /usr/bin/python3 -m venv --system-site-packages "$ort_venv"
  numpy=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')
  echo "numpy==$numpy" >"$ort_venv/constraints.txt"
  $ort_pip install --quiet -c "$ort_venv/constraints.txt" onnxruntime
fi
