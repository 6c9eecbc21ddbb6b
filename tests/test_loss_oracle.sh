#!/usr/bin/env bash
# test_loss_oracle.sh - attnrl's GRPO advantages and loss against verl's and TRL's own code: one
# rollout batch (tokens, masks, groups, rewards, old / reference / current log-probs, entropies,
# credit gamma) goes through attnrl's src/grpo_advantage.c and src/torch/grpo_loss.c
# (tests/loss_oracle.c) and through verl.trainer.ppo.core_algos, verl's actor loss and TRL's
# GRPOTrainer._compute_loss (tests/ref/loss_oracle.py); advantages, per-token surrogate and k3,
# the aggregations, the loss value and its gradients with respect to the log-probs and the
# entropies must agree within 1e-6, with the conventions of docs/peers.md mapped and their
# differences checked. The peers run in the project environment's python (.venv, made by
# scripts/install-venv.sh): without verl or TRL there the test skips, or fails when CI=true.
# ATTNRL_PY picks another python, ATTNRL_BUILD the build folder holding tests/loss_oracle.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
py=${ATTNRL_PY:-.venv/bin/python}
helper=${ATTNRL_BUILD:-build}/tests/loss_oracle

if [ ! -x "$helper" ]; then
	echo "FAIL: $helper is missing (make test builds it; or: make $helper)"
	exit 1
fi
out=$([ -x "$py" ] && "$py" -W ignore tests/ref/loss_oracle.py run "$helper" "$tmp" 2>&1)
rc=$?
if [ ! -x "$py" ] || [ "$rc" -eq 3 ]; then
	skip_unless_ci "$py cannot import verl and trl (${out:-no such python}; bash scripts/install-venv.sh installs them)"
fi
printf '%s\n' "$out"
exit "$rc"
