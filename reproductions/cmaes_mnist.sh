#!/usr/bin/env bash
# Paper section 4.4: CMA-ES, population 80, two states, 512 hidden neurons, MNIST at 14x14 (mnist5k); fitness is
# accuracy on 20 held-out batches of 128 after training on 15 batches of 128. The paper: 0.84 in 400 generations.
#
#   bash reproductions/cmaes_mnist.sh [small|full]      (small: about 9 minutes on 2 CPU cores, full: about 30)
set -euo pipefail
cd "$(dirname "$0")/.."
source reproductions/unbounded.sh  # as first run: f_w unbounded
case "${1:-small}" in
  small) steps=120 ;;
  full)  steps=400 ;;
  *) echo "usage: $0 [small|full]" >&2; exit 2 ;;
esac
rulec meta-train runs/blur_unbounded.rule --set k=2 --method cmaes --data mnist5k --transform resize14 --inputs global \
  --layers 512 --population 80 --unroll 15 --eval-batches 20 --batch 128 --steps "$steps" --eval-every 20 \
  -o runs/cmaes-mnist.npz --plot runs/cmaes-mnist.png
