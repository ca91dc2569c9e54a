#!/usr/bin/env bash
# Paper sections 4.2-4.3: meta-train a four-state genome on MNIST at 10x10 (mnist5k cropped to 20x20, resized
# to 10x10) over all digits, digits 0-4 and digits 5-9; then train with it at 28x28 on held-out data, the mnist5k
# test split and Fashion-MNIST (never seen in meta-training), next to SGD, SGD with momentum and Adam, each with
# the best of 9 learning rates over 4 decades at every step count.
#
# Meta-training has two stages. The search starts from random genomes and scores each after 5 and after 10 inner
# steps. The refinement (`ship` and `full`) restarts CMA-ES from the search's genome with a smaller step size and
# scores after 5, 10 and 15 steps, which keeps the rule learning past its first horizon.
#
# It runs on blur.rule without the bound on f_w that the shipped rule declares, as it was first run.
#
#   bash reproductions/faster_than_sgd.sh [small|ship|full]
#     small: the search only, about 10 minutes on 2 CPU cores
#     ship:  search and refinement, about 18 minutes; it made reproductions/genomes/blur_short_horizon.npz, the
#            genome shipped until the long-horizon one of reproductions/long_horizon.sh replaced it
#     full:  population 80, 1,000 + 300 generations
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
source reproductions/unbounded.sh
case "${1:-small}" in
  small) search=(--population 32 --steps 150); refine=() ;;
  ship)  search=(--population 32 --steps 150); refine=(--population 32 --steps 90) ;;
  full)  search=(--population 80 --steps 1000); refine=(--population 80 --steps 300) ;;
  *) echo "usage: $0 [small|ship|full]" >&2; exit 2 ;;
esac
meta_train() {
  rulec meta-train runs/blur_unbounded.rule --method cmaes --data mnist5k,mnist5k:0-4,mnist5k:5-9 \
    --transform crop20-resize10 --inputs global --validate mnist5k --layers 256 --eval-batches 10 --eval-every 25 "$@"
}
meta_train --unroll 10 --score-at 5 "${search[@]}" -o runs/faster-than-sgd.npz --plot runs/faster-than-sgd.png
genome=runs/faster-than-sgd.npz
if [ ${#refine[@]} -gt 0 ]; then
  meta_train --genome "$genome" --sigma 0.1 --unroll 15 --score-at 5,10 "${refine[@]}" \
    -o runs/faster-than-sgd-refined.npz --plot runs/faster-than-sgd-refined.png
  genome=runs/faster-than-sgd-refined.npz
fi
for data in fashion mnist5k; do
  rulec train runs/blur_unbounded.rule --genome "$genome" --data "$data" --layers 256 --steps 100 \
    --json "runs/faster-than-sgd-$data.json" --plot "runs/faster-than-sgd-$data.png"
done
