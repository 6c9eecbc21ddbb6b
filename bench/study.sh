#!/usr/bin/env bash
# study.sh - the first strategy study (issue 3): short GRPO runs of every credit strategy on the
# embedded default task, several seeds each, the same budget; prints held-out accuracy at the
# start and at the end (mean +- spread over seeds).
# Usage: bash bench/study.sh [steps] [seeds...]   e.g. bash bench/study.sh 60 1 2 3
# Two runs go side by side with one thread each (JOBS=2).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s bin/attnrl >/dev/null
steps=${1:-60}
shift || true
seeds=${*:-1 2 3}
jobs=${JOBS:-2}
out=build/study
mkdir -p "$out"
strategies="none random entropy local global coupled"

for st in $strategies; do
	for seed in $seeds; do
		echo "bin/attnrl train configs/default.yaml credit.strategy=$st run.seed=$seed train.steps=$steps train.threads=1 run.dir=$out run.name=$st-$seed > $out/$st-$seed.log 2>&1"
	done
done | xargs -P "$jobs" -I{} bash -c {}

echo "## Strategy study ($(date -u '+%Y-%m-%d'), configs/default.yaml, $steps steps, seeds $seeds)"
echo
echo "| strategy | eval accuracy before | after $steps steps (mean +- spread) | per seed |"
echo "|---|---:|---:|---|"
for st in $strategies; do
	python3 - "$out" "$st" $seeds <<'PY'
import json, sys
out, st, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
finals = []
for s in seeds:
    rows = [json.loads(l) for l in open(f"{out}/{st}-{s}/metrics.jsonl")]
    finals.append([r["eval_accuracy"] for r in rows if "eval_accuracy" in r][-1])
before = None
for line in open(f"{out}/{st}-{seeds[0]}.log"):
    if line.startswith("eval  step 0"):
        before = float(line.split("accuracy")[1].split()[0])
mean = sum(finals) / len(finals)
spread = (max(finals) - min(finals)) / 2
print(f"| {st} | {before if before is not None else float('nan'):.3f} | {mean:.3f} +- {spread:.3f} | "
      + " ".join(f"{x:.3f}" for x in finals) + " |")
PY
done
