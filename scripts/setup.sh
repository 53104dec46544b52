#!/usr/bin/env bash
# Installs the Debian packages clcnn needs (idempotent, no prompts), then
# configures and builds it in build/.  Extra packages may be named as
# arguments (bench/README.md's PyTorch comparison adds python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc pkg-config meson ninja-build check zlib1g-dev
          ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd
          python3-numpy dataset-fashion-mnist
          clang libclang-rt-dev valgrind
          clang-15 rocm-device-libs "$@")  # scripts/kernel_resources.py: LLVM 15 bitcode

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
