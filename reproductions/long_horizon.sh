#!/usr/bin/env bash
# Meta-training for the long run (docs/reproductions.md): CMA-ES on blur, started from the shipped genome (which
# learns fast and collapses after about 20 steps), scored at the usual short horizon (baseline) against fitness over several horizons (5, 10, 20, 100 inner steps, fewer held-out batches at the
# long ones), the same with a stability term (the synapses' growth over the 100 steps), and the same with f_w
# bounded to [0, 1] in the rule. Each genome then trains with `rulec train` for 500 steps (2 seeds), its test
# accuracy read at steps 20, 100 and 500, on a test split that meta-training never sees.
#
#   bash reproductions/long_horizon.sh [quick|ship] [VARIANT...]      (or --quick, --ship)
#     variants: shipped (the shipped genome as it is), baseline, horizons, stability, bounded; all by default
#     quick: digits, 64-32-10, batch 32, population 16, 20 generations: about 5 minutes a variant on 2 CPU cores
#     ship:  the blur genome's config (mnist5k at 10x10, 784-256-10 at test), population 32, 300 generations
#   RULEC="python -m rulec" runs a rulec that is not on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
mode="${1:-quick}"
mode="${mode#--}"  # --quick and --ship work too
shift || true
case "$mode" in
  quick) config=(--data digits --layers 32 --batch 32 --population 16 --steps 20 --sigma 0.1 --eval-every 5)
         test=(--data digits --layers 32 --batch 32) ;;
  ship)  config=(--data mnist5k,mnist5k:0-4,mnist5k:5-9 --transform crop20-resize10 --validate mnist5k --layers 256
                 --population 32 --steps 300 --sigma 0.1 --eval-every 25)
         test=(--data fashion --layers 256 --batch 128) ;;
  *) echo "usage: $0 [quick|ship] [shipped|baseline|horizons|stability|bounded ...]" >&2; exit 2 ;;
esac
variants=("${@:-shipped baseline horizons stability bounded}")
read -r -a variants <<< "${variants[*]}"
rulec=(${RULEC:-rulec})
long=(--horizons 5,10,20,100 --eval-batches 8)
# The bounded rule: blur with its synapse forget gate kept in [0, 1], so that no genome can grow the synapses.
sed 's/f_w = 1.0;/f_w = 1.0 in [0, 1];/' stdlib_rules/blur.rule > runs/blur_bounded.rule
# Its start: the shipped genome's arrays, stamped for the bounded rule (the same equations); its f_w of 1.029 lies
# outside the bounds, so the search evaluates it at 1.
cp stdlib_rules/genomes/blur.npz runs/blur_bounded_start.npz
python - <<'PY'
import json
import rulec
info = json.load(open("stdlib_rules/genomes/blur.json"))
info["source_hash"] = rulec.load("runs/blur_bounded.rule").source_hash
json.dump(info, open("runs/blur_bounded_start.json", "w"))
PY
for variant in "${variants[@]}"; do
  rule=stdlib_rules/blur.rule
  start=stdlib_rules/genomes/blur.npz
  out="runs/long-$mode-$variant"
  case "$variant" in
    shipped)   cp stdlib_rules/genomes/blur.npz "$out.npz"; cp stdlib_rules/genomes/blur.json "$out.json" ;;
    baseline)  flags=(--unroll 10 --eval-batches 8) ;;
    horizons)  flags=("${long[@]}") ;;
    stability) flags=("${long[@]}" --stability 0.05) ;;
    bounded)   flags=("${long[@]}"); rule=runs/blur_bounded.rule; start=runs/blur_bounded_start.npz ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  if [ "$variant" != shipped ]; then
    "${rulec[@]}" meta-train "$rule" --method cmaes --genome "$start" "${config[@]}" \
      "${flags[@]}" -o "$out.npz"
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
