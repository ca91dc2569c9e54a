#!/usr/bin/env bash
# The learned genomes shipped for stdlib rules other than blur (stdlib_rules/genomes/), each meta-trained by
# CMA-ES on 10x10 MNIST (mnist5k cropped to 20x20 and resized: all digits, digits 0-4, digits 5-9), 100-256-10,
# batch 128, per-feature inputs, population 32, fitness over the horizons 5, 10, 20 and 50 inner steps,
# 40 generations; then measured on `digits`, which none of them saw (benchmarks/stdlib_digits.py).
#   blur_normalized, blur_multiplicative: from the fittest of 32 random genomes (they have no preset that learns)
#   blur_two_state: from its preset `backprop` (exact SGD), with a smaller step size (3 minutes on 2 cores)
#
#   blur_normalized then goes on at 28x28 (784-256-10 on mnist5k, per-feature inputs), from its 10x10 genome:
#   fitness at 5, 10, 20, 100 and 500 steps (the early ones weighted more), population 16, step size 0.05 in units
#   of the start's sizes (--search-scale start), 20 generations, meta-validated on the held-out fifth of mnist5k's
#   training split (about 30 minutes on one core; docs/history.md, "Meta-training for the long run")
#
#   bash reproductions/stdlib_genomes.sh [RULE...]     (about 7 minutes a rule on 2 CPU cores, and the 28x28 stage)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
rules=("${@:-blur_normalized blur_multiplicative blur_two_state}")
read -r -a rules <<< "${rules[*]}"
mnist=(--data mnist5k,mnist5k:0-4,mnist5k:5-9 --transform crop20-resize10 --validate mnist5k --population 32
       --eval-batches 8 --layers 256 --inputs feature --horizons 5,10,20,50 --steps 40 --eval-every 10)
for rule in "${rules[@]}"; do
  case "$rule" in
    blur_two_state) start=(--preset backprop --sigma 0.1) ;;
    *) start=() ;;
  esac
  case "$rule" in
    blur_normalized) out=runs/blur_normalized_10x10.npz ;;
    *) out="runs/$rule.npz" ;;
  esac
  rulec meta-train "stdlib_rules/$rule.rule" --method cmaes "${mnist[@]}" "${start[@]}" -o "$out"
  if [ "$rule" = blur_normalized ]; then
    rulec meta-train stdlib_rules/blur_normalized.rule --method cmaes --genome "$out" --data mnist5k \
      --inputs feature --validate mnist5k --validate-on held-out --population 16 --layers 256 \
      --horizons 5:8:4,10:4:3,20:2:2,100:2,500:2 --steps 20 --sigma 0.05 --search-scale start --eval-every 5 \
      -o runs/blur_normalized.npz
  fi
done
# stdlib_digits.py measures the genomes `rulec train` finds, the shipped ones: copy runs/RULE.npz and runs/RULE.json
# into stdlib_rules/genomes/ first to measure these.
python benchmarks/stdlib_digits.py --rules "${rules[@]}"
