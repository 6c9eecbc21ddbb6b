#!/usr/bin/env bash
# test_math.sh - data.task=math end to end: config and dataset errors are one line; a tiny
# random model trains two GRPO steps on GSM8K (../shared/data, skipped when absent) with the
# built-in character vocabulary and evaluates on its test file; `attnrl sft` trains one step
# on GSM8K's worked solutions and refuses a file without solutions (AMC23).
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh
data=../shared/data
tiny="model.path= model.dim=32 model.n_layers=1 model.n_heads=2 model.n_kv_heads=1 model.max_seq_len=1024 rollout.max_new_tokens=8 rollout.prompts_per_step=2 rollout.group_size=2 algo.mini_batch=4 rollout.stop= train.threads=1 data.eval_size=4 run.dir=$tmp/runs"

expect "math without data.path" 2 "data.task=math needs data.path" $bin train configs/default.yaml data.task=math
expect "unknown placeholder" 2 "unknown placeholder {answer}" $bin config configs/default.yaml "data.template=Q: {answer}"
expect "template without question" 2 "neither a built-in" $bin config configs/default.yaml data.template=papr
printf '{"question": "a", "answer": "1"}\n{"question": "b" "answer": "2"}\n' >"$tmp/bad.jsonl"
expect "malformed line" 1 "$tmp/bad.jsonl:2:" $bin train configs/default.yaml data.task=math data.path="$tmp/bad.jsonl" $tiny
printf '{"question": "a", "answer": "1"}\n{"question": "b", "solution": "2"}\n' >"$tmp/missing.jsonl"
expect "missing field" 1 "$tmp/missing.jsonl:2: no field 'answer' (keys: question, solution)" $bin train configs/default.yaml data.task=math data.path="$tmp/missing.jsonl" $tiny
expect "a path with arith" 1 "are read by data.task=math, mcq or countdown" $bin train configs/default.yaml data.path="$tmp/bad.jsonl"

if [ ! -f "$data/gsm8k/train.jsonl" ] || [ ! -f "$data/gsm8k/test.jsonl" ]; then
	echo "test_math: $data/gsm8k absent, GSM8K runs skipped"
else
	out=$($bin train configs/default.yaml data.task=math data.path=$data/gsm8k/train.jsonl data.eval_path=$data/gsm8k/test.jsonl $tiny train.steps=2 train.eval_every=2 run.name=gsm 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "GSM8K train: exit $rc: $out"
	[[ "$out" == *"7165 train rows"*"1259 held-out rows"* ]] || fail "GSM8K rows: $out"
	[[ "$out" == *"skipped 308 of 7473 train rows"*"308 not encodable"* ]] || fail "GSM8K skips: $out"
	m=$tmp/runs/gsm/metrics.jsonl
	[ "$(grep -c '"step"' "$m" 2>/dev/null)" -ge 2 ] || fail "GSM8K: metrics.jsonl has no 2 steps"
	grep -q '"eval_accuracy"' "$m" 2>/dev/null || fail "GSM8K: no eval in metrics.jsonl"
	grep -q '"prompt": "Natalia\|"prompt": "' "$tmp/runs/gsm/samples.jsonl" 2>/dev/null || fail "GSM8K: no samples"

	out=$($bin train configs/default.yaml data.task=math data.path=$data/gsm8k/test.jsonl data.template=qwen-chat $tiny train.steps=1 train.eval_every=1 run.name=gsm-split 2>&1)
	[ $? -eq 0 ] || fail "GSM8K held-out by hash: $out"
	[[ "$out" == *"held-out rows (1 in 8 of data.path)"*"template qwen-chat"* ]] || fail "hash split: $out"

	out=$($bin sft configs/default.yaml data.task=math data.path=$data/gsm8k/train.jsonl data.eval_path=$data/gsm8k/test.jsonl $tiny model.max_seq_len=2048 sft.steps=1 sft.batch_size=2 sft.out=$tmp/sft.safetensors run.name=sft 2>&1)
	[ $? -eq 0 ] && [ -f "$tmp/sft.safetensors" ] || fail "GSM8K sft: $out"
fi
if [ -f "$data/amc23/test.jsonl" ]; then
	expect "sft needs solutions" 1 "has no worked solutions" $bin sft configs/default.yaml data.task=math data.path=$data/amc23/test.jsonl $tiny sft.steps=1 sft.batch_size=2 sft.out=$tmp/x.safetensors
fi
echo "test_math: $fails failed"
[ "$fails" -eq 0 ]
