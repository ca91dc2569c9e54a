#!/usr/bin/env bash
# The depth-general genome of blur_scaled.rule, stdlib_rules/genomes/blur_scaled.npz (docs/history.md, "A genome
# for every depth"): a designed start, its constants chosen on a validation split, then CMA-ES scored on two and
# four hidden layers to step 1,000, then the measurements on Fashion-MNIST, which neither step reads.
#
#   bash reproductions/depth_genome.sh [choose|search|measure|all]
#     choose:  the validation grid of the start's constants (eta, f, eta_w) at four hidden layers of 256 on the
#              held-out fifth of mnist5k's training split, 2 seeds (about 10 minutes on 2 CPU cores)
#     search:  the meta-training run that wrote the shipped genome, to runs/blur_scaled_depth.npz (27 minutes on 2
#              busy CPU cores; it was started for 6 generations, stopped after 4 and resumed with --steps 4, as
#              its JSON records)
#     measure: benchmarks/depth_grid.py on it, the targets beside tuned SGD and the width x batch x depth grid
#              (about an hour)
#   RULEC="python -m rulec" runs a rulec that is not on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
rulec=(${RULEC:-rulec})
# Target propagation through a fixed random shadow path: state 2 is a second forward pass through channel 2 (nu);
# the backward pass writes a hidden unit's target there, its shadow activity plus the error above fed back through
# wb (mu); every synapse learns pre-activity x (target - activity) (nu_h, mu_h); channel 2 is never updated.
design=(--genome-set "nu=block([[1, 0, 1]])" --genome-set "mu=block([[0, 0, -1], [0, 0, 1], [0, 0, 1]])"
        --genome-set "nu_h=block([[1]])" --genome-set "mu_h=block([[-1, 1, 1]])" --genome-set f_w=1)
chosen=(--genome-set f=1 --genome-set eta=1.5 --genome-set eta_w=10)
mkdir -p runs
case "${1:-all}" in choose|all)
  python benchmarks/stdlib_validation.py blur_scaled eta=1.25,1.5,1.75 f=0.75,1 eta_w=3,10,30 "${design[@]}" \
    --hidden 256,256,256,256 --data mnist5k --inputs feature --steps 20,100,300 ;;
esac
case "${1:-all}" in search|all)
  "${rulec[@]}" meta-train stdlib_rules/blur_scaled.rule --method cmaes "${design[@]}" "${chosen[@]}" \
    --data mnist5k --inputs feature --validate mnist5k --validate-on held-out --population 16 \
    --layers 256,256/256,256,256,256 --horizons 20:4,100:2,1000:1 --steps 4 --sigma 0.02 --search-scale start \
    --eval-every 2 --checkpoint-every 1 -o runs/blur_scaled_depth.npz ;;
esac
case "${1:-all}" in measure|all)
  python benchmarks/depth_grid.py targets stdlib_rules/blur_scaled.rule --genome runs/blur_scaled_depth.npz
  python benchmarks/depth_grid.py grid stdlib_rules/blur_scaled.rule --genome runs/blur_scaled_depth.npz ;;
esac
