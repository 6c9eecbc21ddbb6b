#!/usr/bin/env bash
# study.sh - a strategy study: short GRPO runs of every credit strategy on the
# embedded default task, several seeds each, the same budget; prints held-out accuracy at the
# start and at the end (mean +- spread over seeds).
# Usage: bash bench/study.sh [steps] [seeds...]   e.g. bash bench/study.sh 60 1 2 3
# Two runs go side by side with one thread each (JOBS=2).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
make -s bin/attnrl >/dev/null
steps=${1:-60}
shift || true
seeds=${*:-1 2 3}
jobs=${JOBS:-2}
out=build/study
mkdir -p "$out"
strategies="none random entropy local global coupled"

[ -n "${SUMMARY_ONLY:-}" ] ||
	study_runs "$out" "$jobs" "$strategies" "$seeds" optim.lr=1e-4 optim.warmup_steps=0 train.steps=$steps

echo "## Strategy study ($(date -u '+%Y-%m-%d'), configs/default.yaml, $steps steps, seeds $seeds)"
echo
echo "Seeds vary sampling (and the random strategy's draws); the problems come from data.seed and are"
echo "the same for every run. 'last 3 evals': mean greedy accuracy at the last three evals (10 steps"
echo "apart), per run, then mean +- half the range over seeds; 'train reward': mean sampled reward of"
echo "the last 20 steps."
echo
echo "| strategy | eval before | eval at the end | last 3 evals | train reward, last 20 steps |"
echo "|---|---:|---:|---:|---:|"
for st in $strategies; do
	python3 - "$out" "$st" $seeds <<'PY'
import json, sys
out, st, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
final, last3, reward = [], [], []
for s in seeds:
    rows = [json.loads(l) for l in open(f"{out}/{st}-{s}/metrics.jsonl")]
    evals = [r["eval_accuracy"] for r in rows if "eval_accuracy" in r]
    final.append(evals[-1])
    last3.append(sum(evals[-3:]) / len(evals[-3:]))
    reward.append(sum(r["reward_mean"] for r in rows[-20:]) / len(rows[-20:]))
before = float("nan")
for line in open(f"{out}/{st}-{seeds[0]}.log"):
    if line.startswith("eval  step 0"):
        before = float(line.split("accuracy")[1].split()[0])
def ms(x):
    return f"{sum(x) / len(x):.3f} +- {(max(x) - min(x)) / 2:.3f}"
print(f"| {st} | {before:.3f} | {ms(final)} | {ms(last3)} | {ms(reward)} |")
PY
done
