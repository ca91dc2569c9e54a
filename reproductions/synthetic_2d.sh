#!/usr/bin/env bash
# Paper section 4.1: meta-train a two-state genome by gradients on xor, and, two moons and three multi-class tasks
# (rings, quadrants, sectors; 20 hidden neurons), and report meta-validation accuracy at unroll 10 on held-out
# tasks: circles, pie slice, cross, triangle, blobs (benchmarks/meta_validation.py: 8 initialisations, 20 batches).
#
#   bash reproductions/synthetic_2d.sh [small|full]     (small: about 12 minutes on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
source reproductions/unbounded.sh  # as first run: f_w unbounded
case "${1:-small}" in
  small) run=(--population 4 --lr 2e-3 --steps 5000 --eval-every 250) ;;
  full)  run=(--population 8 --lr 5e-4 --steps 50000 --eval-every 1000 --unroll-step 5 --unroll-every 10000) ;;
  *) echo "usage: $0 [small|full]" >&2; exit 2 ;;
esac
rulec meta-train runs/blur_unbounded.rule --set k=2 --method grad --data xor,and,moons,rings,quadrants,sectors \
  --inputs global \
  --validate circles,pieslice,cross,triangle,blobs --layers 20 --unroll 10 --max-unroll 50 "${run[@]}" \
  -o runs/synthetic-2d.npz --plot runs/synthetic-2d.png
python benchmarks/meta_validation.py runs/synthetic-2d.npz --rule runs/blur_unbounded.rule
