#!/usr/bin/env bash
# Training speed of clcnn on several OpenCL implementations side by side:
# LeNet-5 at batch 32, `clcnn bench --quick`'s figure, measured in ROUNDS
# interleaved rounds (each round runs every implementation once, the order
# turned by one each round), then the median of each and its ratio to the
# first one named.
#
#   bench/implementations.sh [ROUNDS] NAME[:untuned]...
#   bench/implementations.sh 5 pocl intel intel:untuned
#
# NAME is a vendor directory build/icd/NAME that scripts/setup.sh writes
# (pocl, intel, rusticl, oclgrind).  The tuned choices `clcnn tune` stored in
# the program cache (CLCNN_CACHE_DIR, one directory for all: entries are
# keyed by device and driver) are used; NAME:untuned ignores them
# (CLCNN_TUNED=0).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
if [[ ${1:-} =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [ROUNDS] NAME[:untuned]..." >&2; exit 2; }
names=("$@")
for n in "${names[@]}"; do
  [ -d "build/icd/${n%%:*}" ] || { echo "$0: no vendor directory build/icd/${n%%:*} (scripts/setup.sh)" >&2; exit 1; }
done
out=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-impls-XXXXXX")
trap 'rm -rf "$out"' EXIT

for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#names[@]}; i++)); do
    n=${names[(i + r) % ${#names[@]}]}
    tuned=1
    [[ $n == *:untuned ]] && tuned=0
    OCL_ICD_VENDORS="$PWD/build/icd/${n%%:*}" RUSTICL_ENABLE=llvmpipe CLCNN_TUNED=$tuned \
      build/clcnn bench --device opencl --quick --json "$out/$n.$r.json" >/dev/null
  done
done

/usr/bin/python3 - "$out" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def ips(name, r):
    with open(f"{out}/{name}.{r}.json") as f:
        runs = json.load(f)["backends"]
    return runs[0]["train_images_per_s_batch32"]
med = {}
for n in names:
    xs = [ips(n, r) for r in range(rounds)]
    med[n] = statistics.median(xs)
    print(f"{n:18s} median {med[n]:8.0f} images/s  rounds: " + " ".join(f"{x:.0f}" for x in xs))
for n in names[1:]:
    print(f"{names[0]} / {n}: {med[names[0]] / med[n]:.2f}")
PY
