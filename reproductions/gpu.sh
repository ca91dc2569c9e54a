#!/usr/bin/env bash
# Runs a reproduction in its full (paper) configuration on a CUDA machine, and prints the card and the wall time
# (the CMA-ES reproduction's target: the paper's 400 generations in under 60 s on one H100).
#
#   bash reproductions/gpu.sh synthetic_2d|cmaes_mnist|faster_than_sgd|depth_transfer
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  synthetic_2d|cmaes_mnist|faster_than_sgd|depth_transfer) ;;
  *) echo "usage: $0 synthetic_2d|cmaes_mnist|faster_than_sgd|depth_transfer" >&2; exit 2 ;;
esac
. benchmarks/cuda_env.sh
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || echo "unknown card")
start=$(date +%s)
bash "reproductions/$1.sh" full
echo "$1 full: $(( $(date +%s) - start )) s wall on ${card} (JAX compilation included)"
