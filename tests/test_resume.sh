#!/usr/bin/env bash
# test_resume.sh - checkpoints, resume, preemption and failure guards of `attnrl train`, judged
# against uninterrupted runs of the same command: a run killed (SIGKILL) at named points
# (ATTNRL_TEST_KILL_AT: mid-rollout, mid-update, after the logs, mid-checkpoint, between the
# rename and DONE, after DONE) and from outside at a random moment, then rerun, ends with a
# byte-identical model.safetensors, the same samples.jsonl and the same metrics.jsonl (timing
# keys aside), also across the epoch boundaries of a JSONL dataset. SIGTERM / SIGUSR1 / SIGINT
# save and exit 75, a second SIGINT exits 130; train.time_limit and SLURM_JOB_END_TIME stop in
# time; non-finite steps skip the update and abort after train.max_bad_steps; a checkpoint
# write that fails (ulimit -f: EFBIG) stops the run with exit 1, leaves the previous
# checkpoint loadable and says whether train.keep_last can help; a changed config is refused with the keys named.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	rollout.max_new_tokens=24 train.eval_every=3 data.eval_size=4 train.threads=1
	train.save_every=1 algo.entropy_coef=0.01 run.dir="$tmp")
log=$tmp/log # each of the two parallel jobs below has its own
run() { ("$bin" train "${base[@]}" "$@"; exit $?) >>"$log" 2>&1; } # the subshell reports kills to the log

# metrics.jsonl without the timing keys
strip() { sed -E 's/"(time_[a-z]+_s|rollout_tokens_per_s)": [^,}]*(, )?//g' "$1"; }

# the run $2 ended like the reference $1: same weights bytes, samples and metrics
same() {
	local a=$tmp/$1 b=$tmp/$2
	cmp -s "$a/model.safetensors" "$b/model.safetensors" || fail "$3: model.safetensors differs from $1's"
	cmp -s "$a/samples.jsonl" "$b/samples.jsonl" || fail "$3: samples.jsonl differs from $1's"
	if ! diff <(strip "$a/metrics.jsonl") <(strip "$b/metrics.jsonl") >"$tmp/diff"; then
		fail "$3: metrics.jsonl differs from $1's: $(head -c 300 "$tmp/diff")"
	fi
}

# runs "$@" with ATTNRL_TEST_KILL_AT=$1 and expects exit code $2
killed_at() {
	local at=$1 code=$2
	shift 2
	ATTNRL_TEST_KILL_AT=$at run "$@"
	local rc=$?
	[ "$rc" -eq "$code" ] || fail "kill at $at: exit $rc, expected $code ($(tail -n 1 "$log"))"
}

# 1. SIGKILL at every named point, and signals raised at named points (the completed step is
# saved, exit 75), one after the other, then the same command to the end
section1() {
	killed_at rollout:2 137 run.name=k train.steps=6
	killed_at rollout:3:TERM 75 run.name=k train.steps=6
	grep -q "stopped by SIGTERM after step 2; checkpoint $tmp/k/ckpt/step_2" "$log" || fail "SIGTERM line: $(tail -n 1 "$log")"
	[ -e "$tmp/k/ckpt/step_2/DONE" ] && [ ! -e "$tmp/k/ckpt/step_3" ] || fail "SIGTERM in the rollout: not step_2 alone"
	killed_at update:3:USR1 75 run.name=k train.steps=6 train.save_every=0
	[ -e "$tmp/k/ckpt/step_3/DONE" ] || fail "SIGUSR1 in the update: the step was not completed and saved"
	killed_at log:4 137 run.name=k train.steps=6
	killed_at ckpt_write:4 137 run.name=k train.steps=6
	killed_at ckpt_rename:5 137 run.name=k train.steps=6
	[ -d "$tmp/k/ckpt/step_5" ] && [ ! -e "$tmp/k/ckpt/step_5/DONE" ] || fail "ckpt_rename:5 left no step_5 without DONE"
	: >"$log"
	killed_at after_ckpt:5 137 run.name=k train.steps=6
	grep -q "resumed from $tmp/k/ckpt/step_4 " "$log" || fail "step_5 without DONE was loaded: $(grep resumed "$log")"
	[ -e "$tmp/k/ckpt/step_5/DONE" ] || fail "after_ckpt:5: step_5 has no DONE"
	: >"$log"
	run run.name=k train.steps=6 || fail "resume: $(tail -n 2 "$log")"
	grep -q "resumed from $tmp/k/ckpt/step_5 (step 5 of 6)" "$log" || fail "no 'resumed from' line: $(head -n 3 "$log")"
	grep -q "eval  step 0" "$log" && fail "the eval before the first step ran again on resume"
	same ref k "kills and signals at named points"
	cmp -s "$tmp/k/ckpt/step_6/model.safetensors" "$tmp/k/model.safetensors" || fail "ckpt/step_6/model.safetensors is not the final model"
	if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
		/usr/bin/python3 - "$tmp/k/ckpt/step_6" <<'PY' || fail "optimizer.safetensors: see above"
# an outside reader: every parameter of model.safetensors has fp32 moments of its shape in
# optimizer.safetensors, exp_avg_sq >= 0, and trainer_state.json agrees with the metadata
import json, sys
import numpy as np
sys.path.insert(0, "tests/ref")
from st import load as read
d = sys.argv[1]
model, _ = read(d + "/model.safetensors")
opt, meta = read(d + "/optimizer.safetensors")
state = json.load(open(d + "/trainer_state.json"))
assert len(opt) == 2 * len(model), (len(opt), len(model))
for k, w in model.items():
    m, v = opt[k + ".exp_avg"], opt[k + ".exp_avg_sq"]
    assert m.shape == w.shape and v.shape == w.shape, k
    assert (v >= 0).all() and np.abs(m).sum() > 0, k
assert int(meta["opt_step"]) == state["opt_step"] == 12 and state["step"] == 6, (meta, state)
assert state["data_cursor"] == 24 and state["world_size"] == 1, state
PY
	fi
	ls -a "$tmp/k/ckpt" | grep -q tmp && fail "a .tmp folder was left in ckpt/"
	[ "$(ls "$tmp/k/ckpt")" = "$(printf 'step_5\nstep_6')" ] || fail "keep_last=2: ckpt/ holds $(ls "$tmp/k/ckpt")"
}

# 2. a JSONL dataset (data.task=math) whose epoch is 7 rows: 3 prompts a step cross epochs
section2() {
	for i in 1 2 3 4 5 6 7; do
		printf '{"question": "%d+%d=", "answer": "%d"}\n' $i $((i * 3)) $((i * 4))
	done >"$tmp/train.jsonl"
	printf '{"question": "2+2=", "answer": "4"}\n{"question": "9+1=", "answer": "10"}\n' >"$tmp/eval.jsonl"
	math=(data.task=math data.path="$tmp/train.jsonl" data.eval_path="$tmp/eval.jsonl"
		rollout.prompts_per_step=3 algo.mini_batch=6 data.eval_size=2 train.steps=6)
	run run.name=mref "${math[@]}" || fail "math reference: $(tail -n 2 "$log")"
	killed_at update:4 137 run.name=m "${math[@]}"
	run run.name=m "${math[@]}" || fail "math resume: $(tail -n 2 "$log")"
	same mref m "JSONL epochs"
}

# 3. from outside, once the run has logged step N: SIGKILL, SIGTERM; then a double Ctrl-C
section3() {
	outside() { # name, step, signal(s)...
		local name=$1 at=$2
		shift 2
		: >"$tmp/$name.out"
		"$bin" train "${base[@]}" train.steps=6 run.name=$name >"$tmp/$name.out" 2>&1 &
		local pid=$!
		for i in $(seq 200); do
			grep -q "^step *$at/" "$tmp/$name.out" && break
			sleep 0.05
		done
		for s in "$@"; do kill -s "$s" $pid 2>/dev/null; done
		wait $pid 2>/dev/null # (no "Killed" line from the shell)
	}
	outside x 2 KILL
	rc=$?
	[ $rc -eq 137 ] || fail "SIGKILL from outside: exit $rc"
	outside x 4 TERM
	rc=$?
	[ $rc -eq 75 ] && grep -q "stopped by SIGTERM after step" "$tmp/x.out" || fail "SIGTERM from outside: exit $rc, $(tail -n 1 "$tmp/x.out")"
	run run.name=x train.steps=6 || fail "resume after outside signals"
	same ref x "SIGKILL and SIGTERM from outside"
	killed_at rollout:2:INT2 130 run.name=y train.steps=6
}

# 4. time limits: the run saves and exits 75 before them, judged by the measured step time
section4() {
	: >"$log"
	# far more steps than fit in the limit, each run from scratch: a fast machine cannot finish
	run run.name=t train.steps=100000 train.time_limit=1.5
	rc=$?
	[ $rc -eq 75 ] && grep -q "stopped by the time limit after step" "$log" || fail "train.time_limit: exit $rc, $(tail -n 1 "$log")"
	[ "$(ls "$tmp"/t/ckpt/step_*/DONE | wc -l)" -ge 1 ] || fail "train.time_limit: no complete checkpoint"
	SLURM_JOB_END_TIME=$(($(date +%s) + 3)) run run.name=s train.steps=100000
	rc=$?
	[ $rc -eq 75 ] || fail "SLURM_JOB_END_TIME: exit $rc, $(tail -n 1 "$log")"
}

# 5. non-finite steps: the update is skipped (the weights do not move), logged, K in a row abort
section5() {
	ATTNRL_TEST_NAN_AT=2 run run.name=nan train.steps=2 || fail "one NaN step aborted the run"
	cmp -s "$tmp/nan/ckpt/step_1/model.safetensors" "$tmp/nan/ckpt/step_2/model.safetensors" || fail "the NaN step changed the weights"
	grep -q '"step": 2,.*"bad_step": 1' "$tmp/nan/metrics.jsonl" || fail "bad_step not in metrics.jsonl"
	grep -q "step 2: non-finite loss or gradient, update skipped (1 in a row)" "$log" || fail "no console note of the NaN step"
	err=$(ATTNRL_TEST_NAN_AT=3,4,5 "$bin" train "${base[@]}" run.name=bad train.steps=8 train.max_bad_steps=3 2>&1 >/dev/null)
	rc=$?
	want="attnrl train: 3 steps in a row (3-5) had a non-finite loss or gradient (train.max_bad_steps=3): aborting; the last good checkpoint is $tmp/bad/ckpt/step_2"
	[ $rc -eq 1 ] && [ "$(printf '%s\n' "$err" | tail -n 1)" = "$want" ] || fail "max_bad_steps: exit $rc, $(printf '%s\n' "$err" | tail -n 1)"
	[ -e "$tmp/bad/ckpt/step_2/DONE" ] || fail "max_bad_steps: the last good checkpoint is gone"
}

# 6. a checkpoint write that fails (file size limit: EFBIG, root included) stops the run
section6() {
	killed_at log:3 137 run.name=full train.steps=6 train.save_every=2
	(ulimit -f 4000; "$bin" train "${base[@]}" run.name=full train.steps=6 train.save_every=2 >"$tmp/full.log" 2>&1)
	rc=$?
	grep -q "checkpoint of step 4 not saved: .*File too large; the previous checkpoint ckpt/step_2 is intact; free space and rerun to resume from it (train.keep_last cannot help: one complete checkpoint is always kept while the next is written)" "$tmp/full.log" && [ $rc -eq 1 ] ||
		fail "failed checkpoint: exit $rc, $(tail -n 1 "$tmp/full.log")"
	[ -e "$tmp/full/ckpt/step_2/DONE" ] && [ ! -e "$tmp/full/ckpt/step_4" ] && [ ! -e "$tmp/full/ckpt/.step_4.tmp" ] ||
		fail "failed checkpoint: ckpt/ holds $(ls -a "$tmp/full/ckpt")"
	: >"$log"
	run run.name=full train.steps=6 train.save_every=2 || fail "resume after a failed checkpoint"
	grep -q "resumed from $tmp/full/ckpt/step_2 " "$log" || fail "not resumed from step_2 after the failed save"
	same ref full "a failed checkpoint write"
}

# 7. the config check: changed keys are named; the override; keys a resume may change
section7() {
	expect "changed config" 1 "another config: optim.lr: 3.0e-05 -> 0.0002, train.threads: 1 -> 2; rerun with that config, add run.resume_force=true" \
		"$bin" train "${base[@]}" run.name=k train.steps=6 optim.lr=2e-4 train.threads=2
	: >"$log"
	run run.name=k train.steps=7 train.save_every=4 optim.lr=2e-4 run.resume_force=true || fail "resume_force"
	grep -q "warning: .*another config: optim.lr: 3.0e-05 -> 0.0002 (run.resume_force" "$log" || fail "resume_force: $(grep warning "$log")"
	[ "$(grep -c '"step"' "$tmp/k/metrics.jsonl")" -eq 8 ] || fail "train.steps=7 on resume: not 8 metrics lines (the eval of step 0 and 7 steps)"
	expect "no DONE" 1 "run.resume '$tmp/k/ckpt/step_3': not a complete checkpoint" "$bin" train "${base[@]}" run.name=z run.resume="$tmp/k/ckpt/step_3"
	run run.name=k train.steps=2 run.resume=never || fail "run.resume=never"
	[ "$(grep -c '"step"' "$tmp/k/metrics.jsonl")" -eq 3 ] || fail "run.resume=never did not start over"
	[ "$(ls "$tmp/k/ckpt")" = "$(printf 'step_1\nstep_2')" ] || fail "run.resume=never: the old checkpoints stayed: $(ls "$tmp/k/ckpt")"
}

# the reference, then two jobs side by side (each with its own log; failures add up)
run run.name=ref train.steps=6 || fail "reference run: $(tail -n 2 "$log")"
(log=$tmp/log1; section1; section7; exit $fails) &
job=$!
(log=$tmp/log2; section2; section3; section4; section5; section6; exit $fails)
fails=$(($? + fails))
wait $job
fails=$(($? + fails))
echo "test_resume: $fails failed"
[ "$fails" -eq 0 ]
