#!/usr/bin/env bash
# Compiles every OpenCL program the library can build (each family's text
# and every set of build options the registry can pick, as written by
# kernel_programs) with clang for GPU code generators: AMD gfx900 (GCN,
# wave64) and gfx1030 (RDNA2), NVIDIA PTX, and SPIR, as OpenCL C 1.2, with
# -Wall -Wextra -Werror.  Any error, warning or other diagnostic fails the
# test, naming the family, the target and the options.  Exit 77 (skipped)
# only when clang lacks one of the targets (after compiling for the others).
#
# usage: test_kernels.sh KERNEL_PROGRAMS [CLANG]
#
# AMD builds use -nogpulib: Debian's ROCm device libraries are LLVM 15
# bitcode that clang 14 cannot read, and a compile to an object needs no
# library (scripts/kernel_resources.py links them to count registers).
# NVIDIA builds stop at PTX (-S: no ptxas here), SPIR ones at LLVM IR
# (clang has no SPIR code generator).
set -u
programs=$1
clang=${2:-clang}

if ! command -v "$clang" >/dev/null 2>&1; then
  echo "kernels: no $clang: skipped"
  exit 77
fi

# "triple extra-flags|output-flag"; the backend clang must have, or "".
targets=(
  "amdgcn-amd-amdhsa -mcpu=gfx900 -nogpulib|-c|amdgcn"
  "amdgcn-amd-amdhsa -mcpu=gfx1030 -nogpulib|-c|amdgcn"
  "nvptx64-nvidia-nvcl|-S|nvptx64"
  "spir64|-emit-llvm -c|"
)
flags=(-x cl -cl-std=CL1.2 -O3 -Wall -Wextra -Werror)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! "$programs" "$work" >"$work/list"; then
  echo "kernels: FAIL: $programs could not write the programs"
  exit 1
fi
builds=$(wc -l <"$work/list")
if [ "$builds" -eq 0 ]; then
  echo "kernels: FAIL: $programs listed no program"
  exit 1
fi

have=$("$clang" -print-targets 2>/dev/null | awk '{print $1}')
fail=0 missing=() compiled=0
for t in "${targets[@]}"; do
  IFS='|' read -r target out backend <<<"$t"
  if [ -n "$backend" ] && ! grep -qx "$backend" <<<"$have"; then
    missing+=("$target")
    continue
  fi
  while IFS=$'\t' read -r family path options _; do
    # shellcheck disable=SC2086 # target, out and options are word lists
    if ! log=$("$clang" "${flags[@]}" -target $target $out $options "$path" -o "$work/out" 2>&1) ||
      [ -n "$log" ]; then
      echo "kernels: FAIL: family $family, target $target, options: ${flags[*]} $options"
      echo "$log"
      fail=1
    fi
    compiled=$((compiled + 1))
  done <"$work/list"
done

echo "kernels: $compiled compiles ($builds builds of $(cut -f1 "$work/list" | sort -u | wc -l) families," \
  "$((${#targets[@]} - ${#missing[@]})) targets) with $("$clang" --version | head -n1)"
[ "$fail" -eq 0 ] || exit 1
if [ ${#missing[@]} -gt 0 ]; then
  echo "kernels: $clang lacks the targets ${missing[*]}: skipped"
  exit 77
fi
echo "kernels: all clean"
