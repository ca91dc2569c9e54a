#!/usr/bin/env bash
# Meta-training for the long run (docs/history.md, "Meta-training for the long run").
#
#   bash reproductions/long_horizon.sh ship                  (or --ship)
#     The shipped blur genome, stdlib_rules/genomes/blur.npz, in three CMA-ES stages from the short-horizon genome
#     of section 1 (reproductions/genomes/blur_short_horizon.npz, which learns fast and collapses after about 20
#     steps), on blur.rule as shipped, whose forget gate is bounded (f_w in [0, 1]):
#       1. fitness over the horizons 5, 10, 20 and 100 inner steps, mnist5k at 10x10 (all digits, 0-4, 5-9),
#          100-256-10, batch 128, population 32, 60 generations (19 minutes);
#       2. from stage 1, the same over the grid of widths 128/256/512 and batches 32/128, 60 generations (15);
#       3. from stage 2, horizons 5, 10, 20, 100 and 1000 (weight 2), mnist5k alone, 100-256-10, population 16,
#          step size 0.05, 30 generations (12): stage 2 still collapsed between steps 500 and 1000.
#     About 50 minutes on 2 CPU cores. Then `python benchmarks/genome_transfer.py` measures it.
#
#   bash reproductions/long_horizon.sh after
#     What was tried against the collapse after the shipped genome, from it: the stability term on the growth after
#     step 100 (--stability-from), horizons up to 3000 steps, PES at 28x28, CMA-ES at 28x28, a decay, label noise
#     in the meta-training tasks, and blur with its synapses read normalised (about five hours; none shipped).
#
#   bash reproductions/long_horizon.sh scaled
#     The one-layer genome of blur_scaled.rule (a fan-in-scaled, batch-mean Hebbian term), shipped until the
#     depth-general one replaced it and kept as reproductions/genomes/blur_scaled_one_layer.npz: two stages at
#     10x10, then two at 28x28, each measured on the 28x28 validation split (about 3 hours).
#
#   bash reproductions/long_horizon.sh quick [VARIANT...]     (or --quick)
#     The comparison of the tools against collapse, each from the short-horizon genome: digits, 64-32-10, batch
#     32, population 16, 20 generations, about 5 minutes a variant; each genome then trains with `rulec train`
#     for 500 steps (2 seeds), its test accuracy read at steps 20, 100 and 500.
#     variants: shipped (the start as it is), baseline, horizons, stability (on blur.rule without its bound),
#     bounded (blur.rule as shipped); all by default
#   RULEC="python -m rulec" runs a rulec that is not on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
mode="${1:-quick}"
mode="${mode#--}"  # --quick and --ship work too
shift || true
rulec=(${RULEC:-rulec})
long=(--horizons 5,10,20,100 --eval-batches 8)
start=reproductions/genomes/blur_short_horizon.npz
# blur.rule without its bound, the rule the short-horizon genome was learned on; and that genome stamped for the
# bounded rule (the same equations), where its f_w of 1.029 is evaluated at 1.
source reproductions/unbounded.sh
cp "$start" runs/blur_bounded_start.npz
python - <<'PY'
import json
import rulec
info = json.load(open("reproductions/genomes/blur_short_horizon.json"))
info["source_hash"] = rulec.load("stdlib_rules/blur.rule").source_hash
json.dump(info, open("runs/blur_bounded_start.json", "w"))
PY
if [ "$mode" = ship ]; then
  mnist=(--data mnist5k,mnist5k:0-4,mnist5k:5-9 --transform crop20-resize10 --inputs global --validate mnist5k
         --population 32 --eval-batches 8 --horizons 5,10,20,100 --sigma 0.1)
  "${rulec[@]}" meta-train stdlib_rules/blur.rule --method cmaes --genome runs/blur_bounded_start.npz "${mnist[@]}" \
    --layers 256 --steps 60 --eval-every 10 -o runs/blur_stage1.npz
  "${rulec[@]}" meta-train stdlib_rules/blur.rule --method cmaes --genome runs/blur_stage1.npz "${mnist[@]}" \
    --layers 128/256/512 --batch 32/128 --steps 60 --eval-every 20 -o runs/blur_stage2.npz
  "${rulec[@]}" meta-train stdlib_rules/blur.rule --method cmaes --genome runs/blur_stage2.npz --data mnist5k \
    --transform crop20-resize10 --inputs global --validate mnist5k --population 16 --layers 256 \
    --horizons 5:8,10:4,20:2,100:2,1000:2:2 --steps 30 --sigma 0.05 --eval-every 10 -o runs/blur_stage3.npz
  echo "wrote runs/blur_stage3.npz, the shipped genome; measure it with python benchmarks/genome_transfer.py --genome runs/blur_stage3.npz"
  exit 0
fi
if [ "$mode" = scaled ]; then
  # The one-layer genome of blur_scaled.rule (blur with its Hebbian term scaled by each synapse's fan-in and
  # averaged over the batch), reproductions/genomes/blur_scaled_one_layer.npz, in four CMA-ES stages from the
  # shipped blur genome's matrices with eta_w = -1.5 (docs/history.md, "Meta-training for the long run", "A Hebbian step the same at every width and batch"); about 3 hours on 2 cores.
  python - <<'PY'
import json
import numpy as np
import rulec
genome = dict(np.load("stdlib_rules/genomes/blur.npz")) | {"eta_w": np.float32(-1.5)}
np.savez("runs/blur_scaled_start.npz", **genome)
info = json.load(open("stdlib_rules/genomes/blur.json"))
info |= {"rule": "blur_scaled", "source_hash": rulec.load("stdlib_rules/blur_scaled.rule").source_hash}
json.dump(info, open("runs/blur_scaled_start.json", "w"))
PY
  scaled=(stdlib_rules/blur_scaled.rule --method cmaes --data mnist5k --inputs global --validate mnist5k
          --population 16 --layers 256 --eval-every 10)
  validate() { python benchmarks/stdlib_validation.py blur_scaled --genome "$1" --data mnist5k --inputs global \
                 --steps 5,10,20,100,500,1000,2000,3000; }
  # 1. At 10x10, stage 3's horizons (17 minutes on one core).
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_start.npz --transform crop20-resize10 \
    --horizons 5:8,10:4,20:2,100:2,1000:2:2 --steps 30 --sigma 0.1 -o runs/blur_scaled_10x10.npz
  # 2. The early horizons weighted more (10 minutes on 2 cores).
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_10x10.npz --transform crop20-resize10 \
    --horizons 5:8:3,10:4:2,20:2:2,100:2,1000:2:2 --steps 30 --sigma 0.05 -o runs/blur_scaled_early.npz
  # 3. At 28x28 to step 500, its constants searched in units of their size (--search-scale start: eta_w, -1.5
  #    here and declared -0.001, stays put otherwise; the same without it is the comparison in the docs), 32
  #    minutes on one core.
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_early.npz \
    --horizons 5:8:3,10:4:2,20:2:2,100:2,500:2:1 --steps 30 --sigma 0.05 --search-scale start -o runs/blur_scaled_28x28.npz
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_early.npz \
    --horizons 5:8:3,10:4:2,20:2:2,100:2,500:2:1 --steps 30 --sigma 0.05 -o runs/blur_scaled_28x28_declared.npz
  # 4. At 28x28 to step 1000 (41 minutes on one core): stage 3 falls after step 1000.
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_28x28.npz \
    --horizons 5:8:3,10:4:2,20:2:2,100:2,1000:2:2 --steps 20 --sigma 0.03 --search-scale start -o runs/blur_scaled.npz
  # Tried beside stage 4, not shipped: stage 3's horizons with a stability term (25 minutes on one core).
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled_28x28.npz \
    --horizons 5:8:3,10:4:2,20:2:2,100:2,500:2:1 --stability 0.05 --stability-from 100 --steps 25 --sigma 0.03 \
    --search-scale start -o runs/blur_scaled_stability.npz
  # Tried after stage 4, not shipped: steps 5 and 10 weighted more (14 minutes on 2 cores).
  "${rulec[@]}" meta-train "${scaled[@]}" --genome runs/blur_scaled.npz \
    --horizons 5:8:4,10:4:3,20:2:2,100:2,1000:2:2 --steps 12 --sigma 0.03 --search-scale start \
    -o runs/blur_scaled_early_again.npz
  for stage in 10x10 early 28x28_declared 28x28 stability early_again ""; do validate "runs/blur_scaled${stage:+_$stage}.npz"; done
  python benchmarks/genome_transfer.py stdlib_rules/blur_scaled.rule --genome runs/blur_scaled.npz
  exit 0
fi
if [ "$mode" = after ]; then
  # What was tried against the collapse after the shipped genome, each from it (docs/history.md, "Meta-training for the long run",
  # "After the shipped genome"); none was shipped. About five hours on 2 cores.
  shipped=stdlib_rules/genomes/blur.npz
  base=(--method cmaes --genome "$shipped" --data mnist5k --transform crop20-resize10 --inputs global
        --validate mnist5k --population 16 --layers 256 --sigma 0.05)
  for weight in 0.05 0.2; do  # the stability term on the growth after step 100
    "${rulec[@]}" meta-train stdlib_rules/blur.rule "${base[@]}" --horizons 5:8,10:4,20:2,100:2,1000:2:2 --steps 30 \
      --stability "$weight" --stability-from 100 -o "runs/after-stability$weight.npz"
  done
  for weight in 0 0.02; do  # scored up to step 3000, where the shipped genome falls at 10x10
    stability=(); [ "$weight" = 0 ] || stability=(--stability "$weight" --stability-from 100)
    "${rulec[@]}" meta-train stdlib_rules/blur.rule "${base[@]}" --horizons 5:8,10:4,20:2,100:2,1000:2,3000:2:2 \
      --steps 24 "${stability[@]}" -o "runs/after-horizon3000-$weight.npz"
  done
  # PES at 28x28 on blur without its forget gate (f_w stays 1: a perturbation below 1 erodes every synapse).
  sed -e 's/  f_w = 1.0 in \[0, 1\]; eta_w = -0.001 /  eta_w = -0.001 /' -e 's/:= f_w \* /:= /' \
    stdlib_rules/blur.rule > runs/blur_no_forget.rule
  # A genome stamped for another rule: the entries that rule declares, NAME=VALUE set on top (f_w put back at 1,
  # a new constant given its start).
  stamp() {
    python - "$@" <<'PY'
import json, sys
import numpy as np
import rulec
rule, source, target, *settings = sys.argv[1:]
loaded = rulec.load(rule)
declared = {entry.name for entry in loaded.program.genome}
genome = {name: value for name, value in np.load(source).items() if name in declared}
genome |= {name: np.float32(value) for name, _, value in (setting.partition("=") for setting in settings)}
np.savez(target, **genome)
info = json.load(open(source[:-4] + ".json")) | {"source_hash": loaded.source_hash}
json.dump(info, open(target[:-4] + ".json", "w"))
PY
  }
  stamp runs/blur_no_forget.rule "$shipped" runs/after-pes-start.npz
  "${rulec[@]}" meta-train runs/blur_no_forget.rule --method pes --genome runs/after-pes-start.npz --data mnist5k \
    --inputs global --validate mnist5k --population 16 --layers 256 --unroll 2000 --truncation 50 --eval-batches 4 \
    --steps 300 --sigma 0.01 --lr 0.002 --eval-every 100 -o runs/after-pes-no-forget.npz
  stamp stdlib_rules/blur.rule runs/after-pes-no-forget.npz runs/after-pes.npz f_w=1
  # CMA-ES at 28x28 itself, scored up to step 2000, where the shipped genome falls there (2.2 minutes a
  # generation on 2 cores).
  "${rulec[@]}" meta-train stdlib_rules/blur.rule --method cmaes --genome "$shipped" --data mnist5k --inputs global \
    --validate mnist5k --population 16 --layers 256 --horizons 5:8,10:4,20:2,100:2,1000:2,2000:2:2 --steps 16 \
    --sigma 0.03 --eval-every 5 -o runs/after-cmaes-28x28.npz
  # Label noise on the labels the rule trains on, which brings the collapse forward on mnist5k as Fashion-MNIST's
  # harder classes do (about 2 hours 15 minutes on one core in all): two stages at 10x10 beside the clean task, and
  # two at 28x28 on the noisy task alone.
  noisy=(--method cmaes --genome "$shipped" --inputs global --validate-on held-out --population 16 --layers 256
         --sigma 0.05)
  for noise in 0.4 0.6; do
    "${rulec[@]}" meta-train stdlib_rules/blur.rule "${noisy[@]}" --data "mnist5k,mnist5k@noise=$noise" \
      --validate "mnist5k,mnist5k@noise=$noise" --transform crop20-resize10 --horizons 5:8,10:4,20:2,100:2,1000:2:2 \
      --steps 30 --eval-every 10 -o "runs/after-noise$noise-10x10.npz"
  done
  "${rulec[@]}" meta-train stdlib_rules/blur.rule "${noisy[@]}" --data mnist5k@noise=0.4 \
    --validate mnist5k,mnist5k@noise=0.4 --horizons 5:8,10:4,20:2,100:2,1000:2:2 --steps 16 --eval-every 8 \
    -o runs/after-noise0.4-28x28.npz
  "${rulec[@]}" meta-train stdlib_rules/blur.rule "${noisy[@]}" --data mnist5k@noise=0.6 \
    --validate mnist5k,mnist5k@noise=0.6 --horizons 5:8,10:4,20:2,100:2,500:2:2 --steps 20 --eval-every 10 \
    -o runs/after-noise0.6-28x28.npz
  for genome in runs/after-stability*.npz runs/after-horizon3000-*.npz runs/after-pes.npz runs/after-cmaes-28x28.npz \
      runs/after-noise*.npz; do
    python benchmarks/stdlib_validation.py blur --genome "$genome" --data mnist5k --inputs global \
      --steps 5,10,20,100,500,1000,2000,3000
  done
  for genome in "$shipped" runs/after-noise*.npz; do
    python benchmarks/stdlib_validation.py blur --genome "$genome" --data mnist5k --inputs global \
      --steps 20,100,500,1000,2000 --label-noise 0.4
  done
  # A synapse decay on the shipped genome, f_w below its learned 1.
  python benchmarks/stdlib_validation.py blur f_w=1,0.998,0.995,0.99,0.98 --genome "$shipped" --data mnist5k \
    --inputs global --steps 5,10,20,100,500,1000,2000
  # blur with its synapses read normalised (each post neuron's incoming synapses to norm `gain`, as
  # blur_normalized.rule reads them, without its activation normalisation) and f_w unbounded: whether the collapse
  # is the synapses' size or their direction. The shipped and the short-horizon genomes on it, then CMA-ES at
  # 28x28 from each (about 36 minutes each on one core).
  python - <<'PY'
source = open("stdlib_rules/blur.rule").read()
for old, new in [
        ("f_w = 1.0 in [0, 1]; eta_w = -0.001 ", "f_w = 1.0; eta_w = -0.001; gain = 1.0 "),
        ("  let z[j, c] = f * a[j, c] + eta * sum(i, d) w[i, j, c] * nu[d, c]",
         "  let wn[i, j, c] = gain * w[i, j, c] / sqrt(sum(r in pre+bias) w[r, j, c] ^ 2 + 1e-9)\n"
         "  let z[j, c] = f * a[j, c] + eta * sum(i, d) wn[i, j, c] * nu[d, c]"),
        ("  a[i, c] := relu_tanh(f * a[i, c] + eta * sum(j, d) wb[j, i, c] * mu[d, c] * a[j, d])",
         "  let wbn[j, i, c] = gain * wb[j, i, c] / sqrt(sum(s in post) wb[s, i, c] ^ 2 + 1e-9)\n"
         "  a[i, c] := relu_tanh(f * a[i, c] + eta * sum(j, d) wbn[j, i, c] * mu[d, c] * a[j, d])")]:
    assert old in source, old
    source = source.replace(old, new)
open("runs/blur_read_normalised.rule", "w").write(source)
PY
  normalised=runs/blur_read_normalised.rule
  stamp "$normalised" "$shipped" runs/read-normalised-shipped.npz gain=2
  stamp "$normalised" reproductions/genomes/blur_short_horizon.npz runs/read-normalised-short.npz gain=1
  on_mnist=(--data mnist5k --inputs global)
  # The validation grid comes right after the rule: the script's positional arguments.
  python benchmarks/stdlib_validation.py "$normalised" gain=0.57735,1,2 --genome runs/read-normalised-shipped.npz \
    "${on_mnist[@]}" --steps 5,10,20,100,500,1000
  python benchmarks/stdlib_validation.py "$normalised" gain=0.57735,1,2 f_w=1.0292393,1,0.99 \
    --genome runs/read-normalised-short.npz "${on_mnist[@]}" --steps 5,10,20,100,500,1000
  python benchmarks/stdlib_validation.py runs/blur_unbounded.rule --genome "$start" "${on_mnist[@]}" \
    --steps 5,10,20,50,100  # the short-horizon genome on the rule it was learned on, for scale
  "${rulec[@]}" train "$normalised" --genome runs/read-normalised-shipped.npz --data fashion \
    --inputs global --steps 1000 --baseline none
  for start in shipped short; do
    "${rulec[@]}" meta-train "$normalised" "${on_mnist[@]}" --method cmaes --genome "runs/read-normalised-$start.npz" \
      --validate mnist5k --validate-on held-out --population 16 --layers 256 \
      --horizons 5:8:3,10:4:2,20:2:2,100:2,500:2:1 --steps 20 --sigma 0.05 --search-scale start --eval-every 5 \
      -o "runs/read-normalised-$start-28x28.npz"
    python benchmarks/stdlib_validation.py "$normalised" --genome "runs/read-normalised-$start-28x28.npz" \
      "${on_mnist[@]}" --steps 5,10,20,100,500,1000
  done
  exit 0
fi
[ "$mode" = quick ] || { echo "usage: $0 [quick|ship|after|scaled] [shipped|baseline|horizons|stability|bounded ...]" >&2; exit 2; }
config=(--data digits --layers 32 --batch 32 --population 16 --steps 20 --sigma 0.1 --eval-every 5)
test=(--data digits --layers 32 --batch 32)
variants=("${@:-shipped baseline horizons stability bounded}")
read -r -a variants <<< "${variants[*]}"
for variant in "${variants[@]}"; do
  rule=runs/blur_unbounded.rule
  out="runs/long-$mode-$variant"
  case "$variant" in
    shipped)   cp "$start" "$out.npz"; cp "${start%.npz}.json" "$out.json" ;;
    baseline)  flags=(--unroll 10 --eval-batches 8) ;;
    horizons)  flags=("${long[@]}") ;;
    stability) flags=("${long[@]}" --stability 0.05) ;;
    bounded)   flags=("${long[@]}"); rule=stdlib_rules/blur.rule ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  if [ "$variant" != shipped ]; then
    from="$start"
    [ "$variant" = bounded ] && from=runs/blur_bounded_start.npz
    "${rulec[@]}" meta-train "$rule" --method cmaes --genome "$from" "${config[@]}" "${flags[@]}" -o "$out.npz"
  fi
  for seed in 0 1; do
    "${rulec[@]}" train "$rule" --genome "$out.npz" "${test[@]}" --steps 500 --baseline none --seed "$seed" \
      --json "$out.seed$seed.json" > /dev/null
  done
  python - "$variant" "$out" <<'PY'
import json, sys
variant, out = sys.argv[1:]
runs = [json.load(open(f"{out}.seed{seed}.json")) for seed in (0, 1)]
def at(run, step):  # a rule that diverged has no accuracy after it
    return run["rule_accuracy"].get(str(step), float("nan"))
print(variant, *(f"step {s}: " + " ".join(f"{at(r, s):.3f}" for r in runs) for s in (20, 100, 500)), sep="  ")
PY
done
