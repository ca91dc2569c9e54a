#!/usr/bin/env bash
# Runs a reproduction in its full (paper) configuration on a CUDA machine.
#
#   bash reproductions/gpu.sh synthetic_2d|cmaes_mnist|faster_than_sgd
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  synthetic_2d|cmaes_mnist|faster_than_sgd) ;;
  *) echo "usage: $0 synthetic_2d|cmaes_mnist|faster_than_sgd" >&2; exit 2 ;;
esac
. benchmarks/cuda_env.sh
bash "reproductions/$1.sh" full
