#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and trains LeNet-5 on Fashion-MNIST for 5 epochs,
# saving lenet5.model and lenet5-metrics.csv.  Extra arguments go to
# `clcnn train` (e.g. --device cpu, --epochs 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec build/clcnn train --save lenet5.model --metrics lenet5-metrics.csv "$@"
