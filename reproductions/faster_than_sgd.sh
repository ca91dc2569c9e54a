#!/usr/bin/env bash
# Paper sections 4.2-4.3: meta-train a four-state genome on MNIST at 10x10 (mnist5k cropped to 20x20, resized
# to 10x10) over all digits, digits 0-4 and digits 5-9; then train with it at 28x28 on held-out data, the
# mnist5k test split and Fashion-MNIST (never seen in meta-training), next to SGD, SGD with momentum and Adam,
# each with the best of 9 learning rates over 4 decades at every step count.
#
#   bash reproductions/faster_than_sgd.sh [small|full]  (small: about 10 minutes on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
case "${1:-small}" in
  small) run=(--population 32 --steps 150) ;;
  full)  run=(--population 80 --steps 1000) ;;
  *) echo "usage: $0 [small|full]" >&2; exit 2 ;;
esac
rulec meta-train stdlib_rules/blur.rule --method cmaes --data mnist5k,mnist5k:0-4,mnist5k:5-9 \
  --transform crop20-resize10 --validate mnist5k --layers 256 --unroll 10 --eval-batches 10 --eval-every 25 \
  "${run[@]}" -o runs/faster-than-sgd.npz --plot runs/faster-than-sgd.png
for data in fashion mnist5k; do
  rulec train stdlib_rules/blur.rule --genome runs/faster-than-sgd.npz --data "$data" --layers 256 --steps 100 \
    --json "runs/faster-than-sgd-$data.json" --plot "runs/faster-than-sgd-$data.png"
done
