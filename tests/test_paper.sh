#!/usr/bin/env bash
# test_paper.sh - configs/paper/*.yaml and the Countdown data generator.
# Each paper config is accepted by `attnrl config` (its model and data paths need not exist:
# they are read by train, not by config) and carries docs/method.md section 8's numbers, read back
# from the resolved YAML by PyYAML; its header quotes `attnrl plan`'s memory terms. `attnrl countdown-data` is checked by
# tests/ref/countdown_check.py (sizes, ranges, each row's own answer evaluated with exact
# fractions, brute-force solvability, distinct and disjoint splits), is a pure function of its
# seed, and its files train with data.task=countdown.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
source tests/lib.sh

for f in configs/paper/*.yaml; do
	$bin config "$f" >"$tmp/resolved.yaml" 2>"$tmp/err" || { fail "$f: $(cat "$tmp/err")"; continue; }
	$py - "$tmp/resolved.yaml" "$f" <<'PY' || fail "$f: docs/method.md section 8 hyperparameters"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
r, a = c["rollout"], c["algo"]
want = {"responses per step": (r["prompts_per_step"] * r["group_size"], 512),
        "mini-batch": (a["mini_batch"], 32), "lr": (c["optim"]["lr"], 1e-6),
        "temperature": (r["temperature"], 1.0), "kl": (a["kl_coef"], 0.0),
        "arch": (c["model"]["arch"], "qwen3")}
bad = [f"{k}: {v} != {w}" for k, (v, w) in want.items() if v != w]
name = sys.argv[2]
want_len = 8192 if "8k" in name else 1024
if r["max_new_tokens"] != want_len:
    bad.append(f"max_new_tokens {r['max_new_tokens']} != {want_len}")
if a["mini_batch"] % r["group_size"] or not c["dist"]["shard_optimizer"]:
    bad.append("ranks = mini_batch / group_size must be whole; ZeRO-1 on")
if ("countdown" in name) != (c["data"]["task"] == "countdown"):
    bad.append(f"task {c['data']['task']}")
if bad:
    print(name, bad)
sys.exit(1 if bad else 0)
PY
done
[ "$(ls configs/paper/*.yaml | wc -l)" -eq 3 ] || fail "three paper configs expected"

# each header's memory, quoted from `attnrl plan --world N --gpu` on the model's config.json
# (tests/fixtures/qwen3-*-base: Qwen3-4B-Base's and Qwen3-8B-Base's, as published), is what
# attnrl plans today: every term and the total
for f in configs/paper/*.yaml; do
	world=$(sed -n 's/.*attnrl plan configs\/paper\/[a-z0-9-]*\.yaml --world \([0-9]*\) --gpu.*/\1/p' "$f")
	model=tests/fixtures/qwen3-$(case $f in *8b*) echo 8b ;; *) echo 4b ;; esac)-base
	$bin plan "$f" model.path="$model" --world "${world:-0}" --gpu >"$tmp/plan" 2>&1 || { fail "$f: plan: $(cat "$tmp/plan")"; continue; }
	$py - "$f" "$tmp/plan" <<'PY' || fail "$f: its header does not quote the plan: $(cat "$tmp/plan")"
import re, sys
head = " ".join(l[1:].strip() for l in open(sys.argv[1]) if l.startswith("#"))
plan = dict(re.findall(r"^  (\w+) +([0-9.]+) GiB", open(sys.argv[2]).read(), re.M))
say = {"weights": "weights", "grads": "gradients", "comm": "all-reduce buffer", "adam": "AdamW moments",
       "kv": "KV cache", "activations": "activations", "logits": "output layer", "base": "base"}
missing = [k for k, v in plan.items() if k != "total" and f"{say[k]} {v}" not in head]
missing += [] if f": {plan['total']} GiB" in head else ["total " + plan["total"]]
print(sys.argv[1], "header vs plan:", "missing " + ", ".join(missing) if missing else "all terms quoted")
sys.exit(1 if missing else 0)
PY
done

# the generator: TinyZero's sizes, checked from outside
$bin countdown-data --out "$tmp/cd" >"$tmp/cd.log" 2>&1 || fail "countdown-data: $(cat "$tmp/cd.log")"
$py tests/ref/countdown_check.py "$tmp/cd/train.jsonl" "$tmp/cd/test.jsonl" 20000 512 3 4 100 ||
	fail "countdown data"
$bin countdown-data --out "$tmp/cd2" --train 300 --test 40 >/dev/null
cmp -s <(head -n 300 "$tmp/cd/train.jsonl") "$tmp/cd2/train.jsonl" &&
	cmp -s <(head -n 40 "$tmp/cd/test.jsonl") "$tmp/cd2/test.jsonl" ||
	fail "the same seed gave other problems"
$bin countdown-data --out "$tmp/cd3" --train 300 --test 40 --seed 7 >/dev/null
cmp -s "$tmp/cd2/train.jsonl" "$tmp/cd3/train.jsonl" && fail "another seed gave the same problems"
$bin countdown-data --out "$tmp/cd4" --train 50 --test 20 --min-numbers 4 --max-numbers 4 \
	--max-number 20 >/dev/null || fail "countdown-data with 4 numbers"
$py tests/ref/countdown_check.py "$tmp/cd4/train.jsonl" "$tmp/cd4/test.jsonl" 50 20 4 4 20 ||
	fail "countdown data, 4 numbers up to 20"

# the files train with data.task=countdown (one step; the char model, from scratch)
$bin train configs/default.yaml model.path= data.task=countdown data.path="$tmp/cd2/train.jsonl" \
	data.eval_path="$tmp/cd2/test.jsonl" data.eval_size=4 train.steps=1 train.eval_every=1 \
	rollout.prompts_per_step=2 rollout.group_size=2 algo.mini_batch=4 rollout.max_new_tokens=8 \
	model.max_seq_len=400 train.threads=1 run.dir="$tmp" run.name=cd >"$tmp/train.log" 2>&1 ||
	fail "train on the files: $(tail -n 2 "$tmp/train.log")"

expect "no --out" 2 "missing --out DIR" $bin countdown-data
expect "too many numbers" 2 "numbers: countdown: need 1 <= min_ops <= max_ops" $bin countdown-data --out "$tmp/x" --max-numbers 9
expect "too few problems" 1 "too few distinct problems" $bin countdown-data --out "$tmp/y" --train 5000 --test 10 --min-numbers 3 --max-numbers 3 --max-number 3

[ "$fails" -eq 0 ] && echo "test_paper: ok"
exit $((fails > 0))
