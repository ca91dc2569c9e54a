#!/usr/bin/env bash
# Paper section 4.5, Fig. 10: does a genome meta-trained at one depth train networks of another?
#
# blur.rule (k = 2) is meta-trained by CMA-ES three times, on networks of 1, 2 and 4 hidden layers of 256, each
# from the fittest of one population of random genomes (the same seed for all three): 10x10 MNIST (mnist5k cropped
# to 20x20 and resized: all digits, digits 0-4, digits 5-9), global inputs, batch 128, fitness over the horizons 5,
# 10, 20 and 100 inner steps, population 32, 60 generations, meta-validated on the held-out fifth of mnist5k's
# training split (never its test split). Each genome then trains networks of 1, 2, 4, 5 and 10 hidden layers of
# 256 at 28x28 on mnist5k and on Fashion-MNIST, with seeds 0, 1 and 2, for 1,000 steps of batch 128; the table
# gives the test accuracy at steps 10, 50 and 1,000 (mean over the seeds), beside SGD and Adam at their best
# learning rate and input scaling on the same networks and batches. Two more rows evaluate, at the same depths, data
# sets and seeds, blur_scaled's shipped genome, meta-trained on 2 and 4 hidden layers at once from a designed start
# (docs/history.md, "A genome for every depth"), and blur_single_channel.rule's designed preset `depth`.
#
#   bash reproductions/depth_transfer.sh [smoke|medium|full]
#     smoke: the same pipeline at a size that only shows it runs (2.5 minutes of CPU time, mostly compiling):
#            digits, hidden layers of 8, genomes at 1 and 2 hidden layers evaluated at 1, 2 and 4, population 4,
#            2 generations, one seed, 10 steps (the table's steps 5 and 10); its figures mean nothing
#     medium: the configuration above with a smaller search (population 16, 30 generations, horizons 5, 10, 20
#            and 50): about 20 minutes of meta-training and 150 training runs (hours on 2 CPU cores, most of it the
#            baselines' 36 runs per network: 9 learning rates, 2 input scalings, SGD and Adam)
#     full:  the configuration above: three meta-training runs (about 20 minutes each at 1 hidden layer on 2 CPU
#            cores, more at depth) and 150 training runs of 1,000 steps (hours on 2 CPU cores; a GPU through
#            reproductions/gpu.sh depth_transfer)
#   JOBS=2 runs two training runs at a time (one per CPU core: JAX's CPU training loop keeps about one core busy).
#   Needs Fashion-MNIST for `medium` and `full` (apt-get install dataset-fashion-mnist, or FASHION_DIR=...).
#   RULEC="python -m rulec" runs a rulec that is not on the PATH. Outputs go to runs/depth_transfer[_smoke|_medium]/.
set -euo pipefail
cd "$(dirname "$0")/.."
rulec=(${RULEC:-rulec})
case "${1:-smoke}" in
  smoke)
    out=runs/depth_transfer_smoke
    width=8; trained_depths=(1 2); evaluated_depths=(1 2 4); datasets=(digits); seeds=(0); steps=10; read_at=5,10
    meta=(--data digits --inputs global --validate digits --validate-on held-out --population 4 --steps 2
          --unroll 3 --batch 16 --eval-batches 1 --eval-every 1)
    train=(--batch 16) ;;
  full)
    out=runs/depth_transfer
    width=256; trained_depths=(1 2 4); evaluated_depths=(1 2 4 5 10); datasets=(mnist5k fashion); seeds=(0 1 2)
    steps=1000; read_at=10,50,1000
    meta=(--data mnist5k,mnist5k:0-4,mnist5k:5-9 --transform crop20-resize10 --inputs global --validate mnist5k
          --validate-on held-out --population 32 --eval-batches 8 --horizons 5,10,20,100 --steps 60
          --eval-every 10)
    train=(--batch 128) ;;
  medium)
    out=runs/depth_transfer_medium
    width=256; trained_depths=(1 2 4); evaluated_depths=(1 2 4 5 10); datasets=(mnist5k fashion); seeds=(0 1 2)
    steps=1000; read_at=10,50,1000
    meta=(--data mnist5k,mnist5k:0-4,mnist5k:5-9 --transform crop20-resize10 --inputs global --validate mnist5k
          --validate-on held-out --population 16 --eval-batches 8 --horizons 5,10,20,50 --steps 30
          --eval-every 10)
    train=(--batch 128) ;;
  *) echo "usage: $0 [smoke|medium|full]" >&2; exit 2 ;;
esac
mkdir -p "$out"
layers() { local sizes; sizes=$(printf "$width,%.0s" $(seq "$1")); echo "${sizes%,}"; }  # layers 2 -> 256,256

# A genome or a run already written is kept, so that an interrupted reproduction starts again where it stopped.
for depth in "${trained_depths[@]}"; do
  [ -f "$out/genome-$depth.npz" ] || "${rulec[@]}" meta-train stdlib_rules/blur.rule --set k=2 --method cmaes "${meta[@]}" --layers "$(layers "$depth")" \
    --seed 0 -o "$out/genome-$depth.npz"
done
# One training run, written to its path: a genome (a trained depth, `shipped`: blur_scaled's depth-general genome,
# or `single`: blur_single_channel's preset), a data set, an evaluated depth and a seed. The baselines do not
# depend on the genome: they run beside the first trained depth's genome alone.
train_one() {
  local run=$1 genome=$2 data=$3 evaluated=$4 seed=$5 baselines=(--baseline none)
  local rule=(stdlib_rules/blur.rule --set k=2 --genome "$out/genome-$genome.npz")
  [ "$genome" = shipped ] && rule=(stdlib_rules/blur_scaled.rule)
  [ "$genome" = single ] && rule=(stdlib_rules/blur_single_channel.rule)
  [ "$genome" = "${trained_depths[0]}" ] && baselines=(--baseline sgd,adam)
  "${rulec[@]}" train "${rule[@]}" --data "$data" --layers "$(layers "$evaluated")" --steps "$steps" \
    --seed "$seed" "${train[@]}" "${baselines[@]}" --json "$run" > /dev/null
}
# Seed after seed, so that a stopped reproduction holds whole seeds; JOBS=2 runs two training runs at a time.
running=0
for seed in "${seeds[@]}"; do
  for genome in "${trained_depths[@]}" shipped single; do
    for data in "${datasets[@]}"; do
      for evaluated in "${evaluated_depths[@]}"; do
        run="$out/$data-trained$genome-at$evaluated-seed$seed.json"
        [ -f "$run" ] && continue
        train_one "$run" "$genome" "$data" "$evaluated" "$seed" &
        running=$((running + 1))
        if [ "$running" -ge "${JOBS:-1}" ]; then wait -n; running=$((running - 1)); fi
      done
    done
  done
done
wait
python - "$out" "$read_at" "${trained_depths[*]} shipped single" "${evaluated_depths[*]}" "${datasets[*]}" "${seeds[*]}" <<'PY'
"""The depth table: for each data set, a row per trained depth (and the baselines), a column per evaluated depth,
each cell the mean test accuracy over the seeds at the steps read."""
import json
import sys
from pathlib import Path

import numpy as np

out, read_at = Path(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")]
trained, evaluated, datasets, seeds = ([int(x) if x.isdigit() else x for x in arg.split()] for arg in sys.argv[3:7])


def runs(data, depth, at):
    return [json.loads((out / f"{data}-trained{depth}-at{at}-seed{seed}.json").read_text()) for seed in seeds]


def cell(values):
    return " / ".join(f"{np.mean(v):.3f}" for v in values)


lines = [f"test accuracy at steps {' / '.join(map(str, read_at))}, mean over seeds {', '.join(map(str, seeds))}"]
for data in datasets:
    lines += ["", f"{data}:", "", "| meta-trained at | " + " | ".join(f"{d} hidden" for d in evaluated) + " |",
              "|---" * (len(evaluated) + 1) + "|"]
    for depth in trained:
        # A run that diverged has no accuracy after it: nan, never counted as chance.
        row = [cell([[r["rule_accuracy"].get(str(step), np.nan) for r in runs(data, depth, at)] for step in read_at])
               for at in evaluated]
        name = {"shipped": "2 and 4 hidden (blur_scaled's genome)",
                "single": "designed (blur_single_channel's preset)"}.get(depth, f"{depth} hidden")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    for kind in ("sgd", "adam"):  # at their best rate and input scaling, from the runs of the first genome
        row = []
        for at in evaluated:
            records = runs(data, trained[0], at)
            marks = records[0]["evaluation_steps"]
            row.append(cell([[r["baselines"][kind]["best"][marks.index(step)][0] for r in records]
                             for step in read_at]))
        lines.append(f"| {kind} (best rate) | " + " | ".join(row) + " |")
text = "\n".join(lines)
(out / "table.md").write_text(text + "\n")
print(text)
PY
echo "wrote $out/table.md"
