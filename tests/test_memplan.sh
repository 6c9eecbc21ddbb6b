#!/usr/bin/env bash
# test_memplan.sh - the memory plan of `attnrl train` against the measured peak (the "peak
# memory N MiB" of its last line) of small CPU runs of other shapes and batches (long responses
# with and without activation checkpointing, a token budget): the measured
# peak is at most 1.5 x the plan, and the plan at most 2.5 x the measured peak (it assumes
# every sequence max_seq_len tokens long, so it errs high). A run that cannot fit
# (model.dim=65536) is refused at once with one line naming the largest terms, exit 1.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh
export OMP_WAIT_POLICY=passive

# the plan and the peak of one step, in MiB, as "plan peak"
measure() {
	local out
	out=$("$bin" train configs/default.yaml model.path= train.steps=1 train.eval_every=0 train.threads=2 \
		run.dir="$tmp" run.resume=never "$@" 2>&1) || { echo "run failed: $(printf '%s\n' "$out" | tail -n 1)"; return; }
	local plan peak
	plan=$(printf '%s\n' "$out" | sed -n 's/^attnrl train: memory plan: \([0-9.]*\) GiB (.* available .*$/\1/p')
	peak=$(printf '%s\n' "$out" | sed -n 's/.*(peak memory \([0-9]*\) MiB)$/\1/p')
	echo "$plan $peak"
}

for shape in "model.max_seq_len=48 rollout.max_new_tokens=24" \
	"model.max_seq_len=64 rollout.max_new_tokens=32 model.dim=256 algo.micro_batch=32" \
	"model.max_seq_len=48 rollout.max_new_tokens=24 model.dim=256 model.n_layers=8 algo.kl_coef=0.1" \
	"model.max_seq_len=40 rollout.max_new_tokens=16 model.dim=512 model.n_layers=6 algo.micro_batch=16" \
	"model.max_seq_len=160 rollout.max_new_tokens=128 rollout.ignore_eos=true model.n_layers=6 rollout.prompts_per_step=2 algo.mini_batch=16 algo.micro_batch=16" \
	"model.max_seq_len=160 rollout.max_new_tokens=128 rollout.ignore_eos=true model.n_layers=6 rollout.prompts_per_step=2 algo.mini_batch=16 algo.micro_batch=16 train.checkpoint_layers=true" \
	"model.max_seq_len=160 rollout.max_new_tokens=128 rollout.ignore_eos=true model.n_layers=6 rollout.prompts_per_step=2 algo.mini_batch=16 algo.micro_batch_tokens=640"; do
	# shellcheck disable=SC2086
	read -r plan peak rest <<<"$(measure $shape)"
	if [ -z "$peak" ] || [ -n "${rest:-}" ]; then
		fail "$shape: no plan or peak ($plan $peak ${rest:-})"
		continue
	fi
	echo "test_memplan: $shape: plan $plan GiB, measured peak $peak MiB"
	awk -v p="$plan" -v m="$peak" 'BEGIN { p *= 1024; exit !(m <= 1.5 * p && p <= 2.5 * m) }' ||
		fail "$shape: plan $plan GiB vs measured $peak MiB is outside [peak / 1.5, 2.5 x peak]"
done

# rollout.release_kv: the KV cache's pages handed back after each rollout; the run is the same
# bytes as one that keeps them, and its plan counts the KV cache or the update, not both
kv=(model.max_seq_len=512 rollout.max_new_tokens=32 algo.micro_batch_tokens=1024 train.steps=2
	train.eval_every=0 train.threads=1)
"$bin" train configs/default.yaml "${kv[@]}" run.dir="$tmp/kv" run.name=keep >"$tmp/keep.out" 2>&1 &&
	"$bin" train configs/default.yaml "${kv[@]}" run.dir="$tmp/kv" run.name=rel rollout.release_kv=true \
		>"$tmp/rel.out" 2>&1 || fail "release_kv runs: $(tail -n 1 "$tmp/rel.out")"
cmp -s "$tmp/kv/keep/model.safetensors" "$tmp/kv/rel/model.safetensors" ||
	fail "rollout.release_kv changed the trained weights"
pk=$(sed -n 's/^attnrl train: memory plan: \([0-9.]*\) GiB.*/\1/p' "$tmp/keep.out")
pr=$(sed -n 's/^attnrl train: memory plan: \([0-9.]*\) GiB.*/\1/p' "$tmp/rel.out")
echo "test_memplan: rollout.release_kv: the same weights; plan $pk -> $pr GiB"
awk -v a="$pk" -v b="$pr" 'BEGIN { exit !(b < a) }' || fail "release_kv: plan $pk -> $pr GiB"

# attnrl plan prints the plan a run prints, term by term, without running
ov=(model.max_seq_len=160 rollout.max_new_tokens=128 model.n_layers=6 train.checkpoint_layers=true)
line=$("$bin" train configs/default.yaml model.path= train.steps=0 run.dir="$tmp/p" "${ov[@]}" 2>&1 |
	sed -n 's/^attnrl train: memory plan: \([0-9.]* GiB\) .*/\1/p')
out=$("$bin" plan configs/default.yaml model.path= "${ov[@]}")
[ -n "$line" ] && printf '%s\n' "$out" | grep -q "^  total  *${line% GiB} GiB  per rank" &&
	printf '%s\n' "$out" | grep -q "each layer's input + one layer (train.checkpoint_layers)" ||
	fail "attnrl plan: '$out' vs the run's $line"
gpu=$("$bin" plan configs/default.yaml model.path= --world 2 --gpu dist.shard_optimizer=true)
printf '%s\n' "$gpu" | grep -q "^attnrl plan: 2 ranks on GPUs; llama, 4 layers, dim 128" &&
	printf '%s\n' "$gpu" | grep -q "AdamW moments, 1/ranks each (ZeRO-1)" || fail "attnrl plan --gpu: $gpu"
expect "plan: ranks that do not divide" 2 "--world 3 does not divide rollout.prompts_per_step=16" \
	"$bin" plan configs/default.yaml --world 3
expect "plan: a config mistake" 2 "unknown key" "$bin" plan configs/default.yaml model.dimm=3

start=$(date +%s)
expect "a run that cannot fit" 1 "GiB (weights 704.1, grads 704.1, adam 1408.2, kv 50.8, activations" \
	"$bin" train configs/default.yaml model.path= model.dim=65536 train.steps=1 run.dir="$tmp/x"
expect "its advice" 1 "the largest terms: adam 1408.2 GiB, weights 704.1 GiB; lower model.dim, model.n_layers or model.max_seq_len (the shape), or algo.micro_batch / algo.micro_batch_tokens / rollout.prompts_per_step (the batch), set train.checkpoint_layers=true, or set train.memory_check=false to run anyway" \
	"$bin" train configs/default.yaml model.path= model.dim=65536 train.steps=1 run.dir="$tmp/x"
[ $(($(date +%s) - start)) -le 10 ] || fail "the refusal took more than 10 s"
[ -e "$tmp/x" ] && fail "a refused run created its run folder"
echo "test_memplan: $fails failed"
[ "$fails" -eq 0 ]
