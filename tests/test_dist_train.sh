#!/usr/bin/env bash
# test_dist_train.sh - data parallelism on the CPU: the same YAML on 2 ranks (Gloo, one torch
# thread each, ranks from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT) and on 1 rank gives the
# same training: every step's rewards and the eval equal, and the weights after 3 steps equal
# within fp32 tolerance (the gradients are summed in another order; the difference is printed).
# Also: the file rendezvous, a rank that never arrives, a batch that does not split, and a
# resume with another world size.
set -u
bin=bin/attnrl
source tests/lib.sh

base=(configs/default.yaml train.steps=3 rollout.prompts_per_step=4 rollout.group_size=4
	algo.mini_batch=8 algo.micro_batch=2 train.eval_every=3 data.eval_size=8 train.threads=1
	run.resume=never credit.strategy=coupled dist.timeout=60)
port=$((20000 + RANDOM % 20000))

# two ranks of one command; $1 = run dir, the rest: extra environment (e.g. MASTER_ADDR=...)
two() {
	local dir=$1 pids=() rc=0
	shift
	for r in 0 1; do
		env RANK=$r WORLD_SIZE=2 "$@" $bin train "${base[@]}" run.dir="$dir" >"$dir.$r.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}

$bin train "${base[@]}" run.dir="$tmp/one" >"$tmp/one.log" 2>&1 || fail "1 rank: $(tail -1 "$tmp/one.log")"
two "$tmp/tcp" MASTER_ADDR=127.0.0.1 MASTER_PORT=$port || fail "2 ranks (tcp): $(tail -1 "$tmp/tcp.0.log")"
grep -q "2 ranks, gloo backend, rendezvous by tcp store" "$tmp/tcp.0.log" || fail "rank 0 did not report 2 Gloo ranks"
[ -s "$tmp/tcp.1.log" ] && fail "rank 1 printed: $(head -2 "$tmp/tcp.1.log")"
two "$tmp/file" || fail "2 ranks (file rendezvous): $(tail -1 "$tmp/file.0.log")"

# the outside check: numpy reads both weight files and both metrics logs
for run in tcp file; do
	/usr/bin/python3 - "$tmp/one/default" "$tmp/$run/default" "$run" <<'PY' || fail "2 ranks ($run) differ from 1 rank"
import json, os, sys
import numpy as np
sys.path.insert(0, "tests/ref")
import st
def weights(d):
    return st.load(d + "/model.safetensors")[0]
def metrics(d):
    return [json.loads(l) for l in open(d + "/metrics.jsonl")]
a, b = weights(sys.argv[1]), weights(sys.argv[2])
assert a.keys() == b.keys()
diff = max(float(np.abs(a[k] - b[k]).max()) for k in a)
ma, mb = metrics(sys.argv[1]), metrics(sys.argv[2])
same = all(x[k] == y[k] for x, y in zip(ma, mb) for k in ("step", "reward_mean", "accuracy", "eval_accuracy") if k in x)
loss = max(abs(x["loss"] - y["loss"]) for x, y in zip(ma, mb))
print(f"test_dist_train: {sys.argv[3]}: 3 steps on 2 ranks vs 1: max |weight diff| {diff:.2e}, "
      f"max |loss diff| {loss:.1e}, rewards and eval {'equal' if same else 'DIFFER'}")
sys.exit(0 if len(ma) == len(mb) == 3 and same and diff < 1e-4 else 1)
PY
done

# failures a user meets: one line each
expect "a rank never arrives" 1 "rank 1 of 2 never arrived" \
	env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 1)) $bin train "${base[@]}" run.dir="$tmp/lone" dist.timeout=2
expect "a batch that does not split" 1 "must be a multiple of rollout.group_size x ranks = 8" \
	env RANK=0 WORLD_SIZE=2 $bin train "${base[@]}" run.dir="$tmp/bad" algo.mini_batch=4 algo.micro_batch=0
base=("${base[@]/run.resume=never/run.resume=auto}")
two "$tmp/one" MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 2))
grep -q "written by 1 processes, this run has 2" "$tmp/one.0.log" || fail "resuming a 1-rank run on 2 ranks was not refused: $(tail -1 "$tmp/one.0.log")"
echo "test_dist_train: $fails failed"
[ "$fails" -eq 0 ]
