#!/usr/bin/env bash
# study_power.sh - a credit-strategy study sized to tell strategies apart: plain GRPO, random,
# entropy and coupled credit from one warm-up model with SEEDS seeds each, the same budget.
# Prints the final held-out greedy accuracy (EVAL problems) and the mean sampled training
# reward over the run (how fast it learns) per strategy with a 95% confidence interval over
# seeds, and each strategy against plain GRPO paired by seed (mean difference, its 95%
# interval, the paired t-test's two-sided p).
#   short: arithmetic chains of 3-5 operations (responses of ~48 tokens); the warm-up is
#          attnrl sft from scratch, 3,500 steps (17 min on an idle 2-core machine); 16 x 8
#          responses a step.
#   long:  chains of 7-11 operations (worked responses of 70-125 tokens, where FAI's
#          10-100-token band reaches across many worked steps); the warm-up is short's then
#          800 sft steps on these chains (10 min more); 8 x 8 responses a step.
# Both warm-ups cut half the solutions to the bare answer (configs/default.yaml's
# sft.direct_frac), so RL has to find that working pays and then work more accurately.
# Usage: bash bench/study_power.sh [short|long] [steps]   (steps: 60 short, 100 long;
# SEEDS="1 2 3 4 5", JOBS=2 runs side by side with one thread each, EVAL held-out problems:
# 500 short, 1000 long). The warm-ups
# are made once, into build/study-power-PRESET/sft.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
make -s bin/attnrl >/dev/null
preset=${1:-short}
short_task=(data.min_ops=3 data.max_ops=5 rollout.max_new_tokens=96)

# warm_up DIR ARGS...: attnrl sft with ARGS into DIR/sft.safetensors, unless it is there
warm_up() {
	local dir=$1
	shift
	[ -f "$dir/sft.safetensors" ] && return
	mkdir -p "$dir"
	bin/attnrl sft configs/default.yaml train.threads=2 "$@" sft.out="$dir/sft.safetensors" \
		run.dir="$dir" run.name=sft run.resume=never >"$dir/sft.log" 2>&1
}

case $preset in
short)
	steps=${2:-60}
	n_eval=${EVAL:-500}
	task=("${short_task[@]}")
	batch=()
	warm_up build/study-power-short "${task[@]}" model.path= ;;
long)
	steps=${2:-100}
	n_eval=${EVAL:-1000}
	task=(data.min_ops=7 data.max_ops=11 rollout.max_new_tokens=160)
	batch=(rollout.prompts_per_step=8 algo.mini_batch=32)
	warm_up build/study-power-short "${short_task[@]}" model.path=
	warm_up build/study-power-long "${task[@]}" model.path=build/study-power-short/sft.safetensors \
		sft.steps=800 sft.lr=1e-3 sft.warmup_steps=50 ;;
*)
	echo "usage: bash bench/study_power.sh [short|long] [steps]" >&2
	exit 2 ;;
esac
seeds=${SEEDS:-1 2 3 4 5}
jobs=${JOBS:-2}
out=build/study-power-$preset
strategies="none random entropy coupled"

[ -n "${SUMMARY_ONLY:-}" ] ||
	study_runs "$out" "$jobs" "$strategies" "$seeds" model.path=$out/sft.safetensors "${task[@]}" \
		"${batch[@]}" optim.lr=1e-4 optim.warmup_steps=0 train.steps=$steps train.eval_every=$steps \
		data.eval_size=$n_eval train.save_every=0 train.samples_per_step=0

python3 - "$out" "$steps" "$n_eval" "$preset" $strategies -- $seeds <<'PY'
import json, math, sys
out, steps, n_eval, preset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
k = sys.argv.index("--")
strategies, seeds = sys.argv[5:k], sys.argv[k + 1:]

def betacf(a, b, x):  # the continued fraction of the incomplete beta (Lentz)
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h

def ibeta(a, b, x):  # the regularized incomplete beta I_x(a, b)
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbt) * betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * betacf(b, a, 1 - x) / b

def t_two_sided_p(t, df):
    return ibeta(df / 2, 0.5, df / (df + t * t))

def t_quantile_975(df):  # bisection on the two-sided p = 0.05
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_two_sided_p(mid, df) > 0.05 else (lo, mid)
    return lo

def mean_ci(x):
    n, m = len(x), sum(x) / len(x)
    if n < 2:
        return m, float("nan")
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1))
    return m, t_quantile_975(n - 1) * sd / math.sqrt(n)

acc, before, lens, train = {}, {}, {}, {}
for st in strategies:
    for s in seeds:
        rows = [json.loads(l) for l in open(f"{out}/{st}-{s}/metrics.jsonl")]
        evals = [r for r in rows if "eval_accuracy" in r]
        steps_rows = [r for r in rows if "reward_mean" in r]
        before[st, s], acc[st, s] = evals[0]["eval_accuracy"], evals[-1]["eval_accuracy"]
        lens[st, s] = sum(r["response_len_mean"] for r in steps_rows) / len(steps_rows)
        train[st, s] = sum(r["reward_mean"] for r in steps_rows) / len(steps_rows)
print(f"## Credit strategies with more power ({preset}: {steps} steps, seeds {' '.join(seeds)}, {n_eval} held-out problems)")
print()
print("| strategy | eval before | final eval, mean [95% CI] | per seed | training reward over the run, mean [95% CI] | response tokens |")
print("|---|---:|---:|---|---:|---:|")
for st in strategies:
    x = [acc[st, s] for s in seeds]
    m, h = mean_ci(x)
    tm, th = mean_ci([train[st, s] for s in seeds])
    b = sum(before[st, s] for s in seeds) / len(seeds)
    ln = sum(lens[st, s] for s in seeds) / len(seeds)
    print(f"| {st} | {b:.3f} | {m:.3f} [{m - h:.3f}, {m + h:.3f}] | {' '.join(f'{v:.3f}' for v in x)} | "
          f"{tm:.4f} [{tm - th:.4f}, {tm + th:.4f}] | {ln:.1f} |")
print()
print("| against plain GRPO, paired by seed | final eval: mean difference [95% CI], p | training reward: mean difference [95% CI], p |")
print("|---|---:|---:|")
def paired(table, st):
    d = [table[st, s] - table["none", s] for s in seeds]
    m, h = mean_ci(d)
    sd = h / t_quantile_975(len(d) - 1) * math.sqrt(len(d)) if len(d) > 1 else float("nan")
    t = m / (sd / math.sqrt(len(d))) if sd > 0 else float("nan")
    p = t_two_sided_p(abs(t), len(d) - 1) if t == t else float("nan")
    return f"{m:+.4f} [{m - h:+.4f}, {m + h:+.4f}], p {p:.3f}"
for st in strategies[1:]:
    print(f"| {st} | {paired(acc, st)} | {paired(train, st)} |")
p = sum(acc["none", s] for s in seeds) / len(seeds)
print()
print(f"One run's eval has a sampling error of about +-{1.96 * math.sqrt(p * (1 - p) / n_eval):.3f} (95%, {n_eval} problems).")
PY
