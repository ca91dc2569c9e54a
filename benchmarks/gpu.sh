#!/usr/bin/env bash
# Runs the step and meta-training benchmarks on a CUDA machine and prints the same tables as on CPU.
#
#   bash benchmarks/gpu.sh [extra step_bench.py flags]
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/cuda_env.sh
python3 benchmarks/step_bench.py "$@"
python3 benchmarks/meta_bench.py
