#!/usr/bin/env bash
# test_dist_train.sh - data parallelism on the CPU: the same YAML on 2 ranks (Gloo, one torch
# thread each, ranks from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT, or RANK/WORLD_SIZE/
# LOCAL_WORLD_SIZE with the file rendezvous; loopback only either way) and on 1 rank gives the
# same training: every step's rewards and the eval equal, and the weights after 3 steps equal
# within fp32 tolerance (the gradients are summed in another order; the difference is printed).
# ZeRO-1 (dist.shard_optimizer) gives the same weights as the plain all-reduce, writes one
# optimizer shard per rank whose concatenation is the plain run's moments, resumes from its
# shards exactly, and converts either layout into the other on a forced resume.
# Also: the file rendezvous, a rank that never arrives, a batch that does not split, a resume
# with another world size, SIGTERM while waiting in the rendezvous, and a stop on one rank in
# start-up ending both.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml train.steps=3 rollout.prompts_per_step=4 rollout.group_size=4
	algo.mini_batch=8 algo.micro_batch=2 train.eval_every=3 data.eval_size=8 train.threads=1
	run.resume=never credit.strategy=coupled dist.timeout=60)
port=$((20000 + RANDOM % 20000))
extra=()

# two ranks of one command; $1 = run dir, the rest: extra environment (e.g. MASTER_ADDR=...)
two() {
	local dir=$1 pids=() rc=0
	shift
	for r in 0 1; do
		env RANK=$r WORLD_SIZE=2 "$@" $bin train "${base[@]}" "${extra[@]}" run.dir="$dir" >"$dir.$r.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}

$bin train "${base[@]}" run.dir="$tmp/one" >"$tmp/one.log" 2>&1 || fail "1 rank: $(tail -1 "$tmp/one.log")"
two "$tmp/tcp" MASTER_ADDR=127.0.0.1 MASTER_PORT=$port || fail "2 ranks (tcp): $(tail -1 "$tmp/tcp.0.log")"
grep -q "2 ranks, gloo backend, rendezvous by tcp store" "$tmp/tcp.0.log" || fail "rank 0 did not report 2 Gloo ranks"
[ -s "$tmp/tcp.1.log" ] && fail "rank 1 printed: $(head -2 "$tmp/tcp.1.log")"
two "$tmp/file" LOCAL_WORLD_SIZE=2 || fail "2 ranks (file rendezvous): $(tail -1 "$tmp/file.0.log")"

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
loss = max(abs(x["loss"] - y["loss"]) for x, y in zip(ma, mb) if "loss" in x)
print(f"test_dist_train: {sys.argv[3]}: 3 steps on 2 ranks vs 1: max |weight diff| {diff:.2e}, "
      f"max |loss diff| {loss:.1e}, rewards and eval {'equal' if same else 'DIFFER'}")
sys.exit(0 if len(ma) == len(mb) == 4 and ma[0]["step"] == 0 and same and diff < 1e-4 else 1)  # step 0's eval, 3 steps
PY
done

# ZeRO-1: the same run with sharded moments; a 2-step run resumed to 3 steps; and the layouts
# converted both ways (a plain 2-step run resumed sharded, a sharded one resumed plain)
zero() { # $1 = dir, $2 = port offset, the rest: extra keys
	local d=$1 p=$2
	shift 2
	extra=("$@")
	two "$tmp/$d" MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + p)) || fail "2 ranks ($d): $(tail -1 "$tmp/$d.0.log")"
	extra=()
}
zero zero 3 dist.shard_optimizer=true train.save_every=1 train.keep_last=0
zero zres 4 dist.shard_optimizer=true train.steps=2
zero zres 5 dist.shard_optimizer=true run.resume=auto
zero plain2 6 train.steps=2
zero toz 7 run.resume="$tmp/plain2/default/ckpt/step_2" run.resume_force=true dist.shard_optimizer=true
zero fromz 8 run.resume="$tmp/zres/default/ckpt/step_2" run.resume_force=true
grep -q "resuming" "$tmp/toz.0.log" || fail "the forced resume printed no warning"
cmp -s "$tmp/zero/default/model.safetensors" "$tmp/zres/default/model.safetensors" || fail "ZeRO-1: the resumed run's weights differ from the uninterrupted run's"
/usr/bin/python3 - "$tmp" <<'PY' || fail "ZeRO-1 differs from the plain all-reduce"
import glob, json, os, sys
import numpy as np
sys.path.insert(0, "tests/ref")
import st
tmp = sys.argv[1]
def weights(run, f="model.safetensors"):
    return st.load(f"{tmp}/{run}/default/{f}")[0]
def diff(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)
ok = True
plain, one = weights("tcp"), weights("one")
for run in ("zero", "toz", "fromz"):
    d, d1 = diff(plain, weights(run)), diff(one, weights(run))
    print(f"test_dist_train: ZeRO-1 {run}: max |weight diff| {d:.2e} vs 2 ranks plain, {d1:.2e} vs 1 rank")
    ok &= d < 1e-4 and d1 < 1e-4
# the shards, concatenated in rank order, are the plain run's moments (same flat order)
ck = f"{tmp}/zero/default/ckpt/step_3"
files = sorted(glob.glob(ck + "/optimizer-rank*-of-00002.safetensors"))
ok &= len(files) == 2 and not os.path.exists(ck + "/optimizer.safetensors")
shards = [st.load(f) for f in files]
planm = st.load(f"{tmp}/tcp/default/ckpt/step_3/optimizer.safetensors")[0]
offs = [int(m["offset"]) for _, m in shards]
sizes = [t["exp_avg"].size for t, _ in shards]
ok &= offs == [0, sizes[0]] and abs(sizes[0] - sizes[1]) <= 1
worst = 0.0
for k in ("exp_avg", "exp_avg_sq"):
    flat = np.concatenate([t[k] for t, _ in shards])
    order = [n[:-8] for n in planm if n.endswith(".exp_avg")] # the file keeps the parameter order
    ref = np.concatenate([planm[n + "." + k].ravel() for n in order])
    ok &= flat.size == ref.size
    worst = max(worst, float(np.abs(flat - ref).max() / (np.abs(ref).max() + 1e-30)))
print(f"test_dist_train: ZeRO-1 shards of {sizes} values; moments vs the plain run: max rel diff {worst:.1e}")
sys.exit(0 if ok and worst < 1e-3 else 1)
PY

# failures a user meets: one line each
expect "a rank never arrives" 1 "rank 1 of 2 never arrived" \
	env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 1)) $bin train "${base[@]}" run.dir="$tmp/lone" dist.timeout=2
expect "a batch that does not split" 1 "must be a multiple of rollout.group_size x ranks = 8" \
	env RANK=0 WORLD_SIZE=2 $bin train "${base[@]}" run.dir="$tmp/bad" algo.mini_batch=4 algo.micro_batch=0
# signals in start-up: a rank waiting in the rendezvous stops at once (exit 75, nothing
# written); a stop on one rank only (rank 1's test hook) stops both after the lock, exit 75
env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 9)) $bin train "${base[@]}" \
	run.dir="$tmp/wait" >"$tmp/wait.log" 2>&1 &
pid=$!
sleep 2 # rank 1 never comes: rank 0 waits for it (dist.timeout=60)
t0=$(date +%s%N)
kill -TERM $pid
wait $pid
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "test_dist_train: SIGTERM while waiting in the rendezvous: exit $rc after $ms ms"
[ $rc -eq 75 ] && [ $ms -lt 5000 ] && grep -q "stopped by SIGTERM during start-up" "$tmp/wait.log" ||
	fail "SIGTERM in the rendezvous: exit $rc after $ms ms, $(tail -1 "$tmp/wait.log")"
for r in 0 1; do
	hook=()
	[ $r -eq 1 ] && hook=(ATTNRL_TEST_KILL_AT=startup:0:TERM)
	env RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 10)) "${hook[@]}" $bin train \
		"${base[@]}" run.dir="$tmp/stop1" >"$tmp/stop1.$r.log" 2>&1 &
	pids[$r]=$!
done
wait ${pids[0]}
rc0=$?
wait ${pids[1]}
rc1=$?
[ $rc0 -eq 75 ] && [ $rc1 -eq 75 ] && grep -q "stopped by SIGTERM during start-up" "$tmp/stop1.0.log" ||
	fail "a stop on rank 1 in start-up: exits $rc0 and $rc1, $(tail -1 "$tmp/stop1.0.log")"

base=("${base[@]/run.resume=never/run.resume=auto}")
two "$tmp/one" MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 2))
grep -q "written by 1 processes, this run has 2" "$tmp/one.0.log" || fail "resuming a 1-rank run on 2 ranks was not refused: $(tail -1 "$tmp/one.0.log")"
echo "test_dist_train: $fails failed"
[ "$fails" -eq 0 ]
