#!/usr/bin/env bash
# Runs the step and meta-training benchmarks on a CUDA machine and prints the same tables as on CPU, with the
# card's name: step_bench.py with every setting, each blur row also without dead-state elimination
# (--unpruned), contraction_bench.py (the two contraction forms against the FLOP model that picks one), then
# meta_bench.py.
#
#   bash benchmarks/gpu.sh [extra step_bench.py flags]
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/cuda_env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 benchmarks/step_bench.py --unpruned "$@"
python3 benchmarks/contraction_bench.py
python3 benchmarks/meta_bench.py
