#!/usr/bin/env bash
# test_microbatch.sh - token-budget micro-batches (algo.micro_batch_tokens): a mini-batch's
# responses sorted by length and packed under the budget give the same loss and gradients as
# the whole mini-batch in one forward/backward: the first step's loss within 1e-7 and gradient
# norm within 5e-6 relative, for each loss aggregation (with KL and entropy terms), on 1 rank
# and on 2 (Gloo, loopback), with less padding (pad_frac). The two differ only in fp32
# rounding (other shapes, other summation orders), as much as two fixed micro-batch sizes do
# (checked and printed: algo.micro_batch=2 against the same reference, gradient norms ~1e-6
# relative apart). Config mistakes about the budget exit 2.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	rollout.max_new_tokens=24 model.max_seq_len=128 train.steps=1 train.eval_every=0 train.threads=1 run.resume=never
	algo.kl_coef=0.05 algo.entropy_coef=0.01 run.dir="$tmp")

# step 1's loss, grad_norm and pad_frac of run $1
row() { /usr/bin/python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if "loss" in l][0]; print(repr(r["loss"]), repr(r["grad_norm"]), r["pad_frac"])' "$tmp/$1/metrics.jsonl"; }

# runs $1 (fixed) and $2 (budget) agree: loss within 1e-7, grad_norm within 5e-6 relative, less padding ($4:
# "any" for no padding check)
agree() {
	read -r la ga pa < <(row "$1")
	read -r lb gb pb < <(row "$2")
	/usr/bin/python3 - "$la" "$ga" "$pa" "$lb" "$gb" "$pb" "$3" "${4:-less}" <<'PY' || fail "$3: $la $ga vs $lb $gb"
import sys
la, ga, pa, lb, gb, pb = map(float, sys.argv[1:7])
dl, dg = abs(la - lb), abs(ga - gb) / max(abs(ga), 1e-12)
print(f"test_microbatch: {sys.argv[7]}: loss {la:.9g} vs {lb:.9g} (diff {dl:.1e}), grad norm "
      f"{ga:.9g} vs {gb:.9g} (relative diff {dg:.1e}), padding {pa:.3f} -> {pb:.3f}")
sys.exit(0 if dl <= 1e-7 and dg <= 5e-6 and (pb < pa or sys.argv[8] == "any") else 1)
PY
}

for agg in token-mean seq-mean-token-mean seq-mean-token-sum-norm; do
	"$bin" train "${base[@]}" algo.loss_agg=$agg run.name=fix-$agg >"$tmp/log" 2>&1 ||
		fail "$agg, fixed: $(tail -n 1 "$tmp/log")"
	"$bin" train "${base[@]}" algo.loss_agg=$agg algo.micro_batch=2 run.name=two-$agg \
		>"$tmp/log" 2>&1 || fail "$agg, 2 per micro-batch: $(tail -n 1 "$tmp/log")"
	agree fix-$agg two-$agg "$agg, 1 rank, fixed 2 per micro-batch (rounding only)" any
	"$bin" train "${base[@]}" algo.loss_agg=$agg algo.micro_batch_tokens=128 run.name=tok-$agg \
		>"$tmp/log" 2>&1 || fail "$agg, budget: $(tail -n 1 "$tmp/log")"
	agree fix-$agg tok-$agg "$agg, 1 rank"
done

# 2 ranks: each packs its share of every mini-batch; the global normalisation is unchanged
port=$(free_port)
two() { # run name, port, extra keys...
	local name=$1 p=$2 pids=() rc=0
	shift 2
	for r in 0 1; do
		env RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$p "$bin" train "${base[@]}" \
			run.name=$name "$@" >"$tmp/$name.$r.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ $rc -eq 0 ] || fail "2 ranks, $name: $(tail -n 1 "$tmp/$name.0.log")"
}
two fix2 "$port"
two tok2 "$((port + 1))" algo.micro_batch_tokens=128
agree fix2 tok2 "seq-mean-token-mean, 2 ranks"

expect "budget below max_seq_len" 2 "algo.micro_batch_tokens=100 is smaller than model.max_seq_len=128" \
	"$bin" train "${base[@]}" algo.micro_batch_tokens=100 run.name=bad
expect "budget and count" 2 "set one" \
	"$bin" train "${base[@]}" algo.micro_batch_tokens=512 algo.micro_batch=2 run.name=bad
echo "test_microbatch: $fails failed"
[ "$fails" -eq 0 ]
