#!/usr/bin/env bash
# test_runfolder.sh - one writer per run folder, no silent loss in the logs, signals in every
# phase of `attnrl train`. Two runs racing on one folder: the second exits 2 at once naming the
# holder (pid, host, start), as does `attnrl sft` there, and the first ends with the logs and
# model of a run alone; a LOCK left by a dead process is taken over with one line; run.name
# cannot leave run.dir. A log write that fails (ulimit -f: EFBIG) stops the run with exit 1 and
# one line naming the file and the checkpoint a rerun resumes from; the rerun ends like an
# uninterrupted run (every metrics line JSON, steps contiguous). A log shorter than its
# checkpoint recorded, or missing, is refused with one line (run.resume_force=true goes on).
# SIGTERM in the eval and in start-up ends the run within 10 s (measured, printed), exit 75, as
# it ends `attnrl sft` (no model written: sft keeps no checkpoints)
# (in a checkpoint write: the checkpoint completes first);
# the step of a cut eval is saved without it and the rerun does the eval again: the same bytes
# as an uninterrupted run.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	rollout.max_new_tokens=24 train.eval_every=3 data.eval_size=4 train.threads=1
	train.save_every=1 algo.entropy_coef=0.01 run.dir="$tmp")
log=$tmp/log
run() { ("$bin" train "${base[@]}" "$@"; exit $?) >>"$log" 2>&1; }
strip() { sed -E 's/"(time_[a-z]+_s|rollout_tokens_per_s)": [^,}]*(, )?//g' "$1"; }

# the run $2 ended like the reference $1: same weights bytes, samples and metrics
same() {
	local a=$tmp/$1 b=$tmp/$2
	cmp -s "$a/model.safetensors" "$b/model.safetensors" || fail "$3: model.safetensors differs from $1's"
	cmp -s "$a/samples.jsonl" "$b/samples.jsonl" || fail "$3: samples.jsonl differs from $1's"
	diff <(strip "$a/metrics.jsonl") <(strip "$b/metrics.jsonl") >"$tmp/diff" ||
		fail "$3: metrics.jsonl differs from $1's: $(head -c 300 "$tmp/diff")"
}

# every line of metrics.jsonl is a JSON object; the step rows run 1..$2 once each
rows_ok() { # run name, steps, what
	/usr/bin/python3 - "$tmp/$1/metrics.jsonl" "$2" <<'PY' || fail "$3: metrics.jsonl, see above"
import json, sys
steps = []
for i, line in enumerate(open(sys.argv[1]), 1):
    row = json.loads(line)  # raises on a glued or cut line
    if "loss" in row:
        steps.append(row["step"])
assert steps == list(range(1, int(sys.argv[2]) + 1)), steps
PY
}

# seconds since $1 (date +%s.%N), one decimal
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# waits (up to $3 looks, $4 s apart) until file $1 has a line matching $2
wait_for() {
	for _ in $(seq "$3"); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep "$4"
	done
	return 1
}

# SIGTERM to process $1 now: its exit code into rc, the seconds it took to end into secs
term_wait() {
	local t0
	t0=$(date +%s.%N)
	kill -TERM "$1"
	wait "$1"
	rc=$?
	secs=$(since "$t0")
}

run run.name=ref train.steps=6 || fail "reference run: $(tail -n 2 "$log")"

# 1. the lock: a second train (another lr) and an sft on a busy folder exit 2 at once, naming
# the holder; the first run's files are its own; a dead holder's LOCK is taken over
"$bin" train "${base[@]}" run.name=dup train.steps=6 >"$tmp/dup.out" 2>&1 &
pid=$!
wait_for "$tmp/dup/LOCK" . 400 0.02
kill -STOP $pid # held still, lock and all, while the others try
expect "sft on a busy folder" 2 "in use by pid $pid on host" \
	"$bin" sft "${base[@]}" run.name=dup sft.steps=1 sft.out="$tmp/sft.safetensors"
expect "second train on a busy folder" 2 "in use by pid $pid on host $(hostname), started 20" \
	"$bin" train "${base[@]}" run.name=dup train.steps=6 optim.lr=2e-4
kill -CONT $pid
wait $pid || fail "the first run: exit $?, $(tail -n 1 "$tmp/dup.out")"
same ref dup "a run with a second one started beside it"
grep -q "2e-4\|0.0002" "$tmp/dup/config.yaml" && fail "config.yaml is the second run's"
[ -e "$tmp/dup/LOCK" ] && [ ! -s "$tmp/dup/LOCK" ] || fail "LOCK is not empty after a clean end"
sh -c 'exit 0' &
dead=$!
wait $dead
echo "pid=$dead host=$(hostname) started=2026-01-01T00:00:00Z" >"$tmp/dup/LOCK"
: >"$log"
run run.name=dup train.steps=7 || fail "stale lock: $(tail -n 2 "$log")"
grep -q "warning: '$tmp/dup/LOCK': taking over the lock of pid $dead on host $(hostname) (started 2026-01-01T00:00:00Z), which is no longer running" "$log" ||
	fail "no take-over line: $(head -n 2 "$log")"
for name in .. . a/b; do
	expect "run.name=$name" 2 "run.name='$name': not a folder name" "$bin" train "${base[@]}" run.name=$name
done

# 2. a log write that fails (EFBIG: samples.jsonl, 16 samples a step, reaches `ulimit -f`)
# before the checkpoint of step 6 stops the run; the rerun resumes from step_3 and ends like
# an uninterrupted run
big=(train.steps=6 train.save_every=3 train.samples_per_step=16)
run "${big[@]}" run.name=fullref || fail "reference run: $(tail -n 2 "$log")"
ATTNRL_TEST_KILL_AT=log:3:TERM run "${big[@]}" run.name=full
kb=$(( $(stat -c %s "$tmp/full/samples.jsonl") / 1024 + 2 ))
if ! (ulimit -f $kb) 2>/dev/null || (ulimit -f $kb && head -c $(( (kb + 1) * 1024 )) /dev/zero >"$tmp/big") 2>/dev/null; then
	echo "SKIP: log write failure: ulimit -f does not limit writes here (EFBIG)"
else
	(ulimit -f $kb; "$bin" train "${base[@]}" "${big[@]}" run.name=full >"$tmp/full.out" 2>"$tmp/full.err")
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/full.err")" -eq 1 ] &&
		grep -q "^attnrl train: step 4: cannot write '$tmp/full/samples.jsonl': File too large; stopping: a rerun resumes from the last good checkpoint $tmp/full/ckpt/step_3 (free space first)$" "$tmp/full.err" ||
		fail "failed log write: exit $rc, $(cat "$tmp/full.err")"
	[ -e "$tmp/full/ckpt/step_6" ] && fail "a checkpoint was taken over the failed logs"
	: >"$log"
	run "${big[@]}" run.name=full || fail "resume after a failed log write: $(tail -n 2 "$log")"
	grep -q "resumed from $tmp/full/ckpt/step_3 " "$log" || fail "not resumed from step_3: $(grep resumed "$log")"
	same fullref full "a failed log write"
	rows_ok full 6 "a failed log write"
fi

# 3. logs shorter than the checkpoint says, or missing: refused with one line; forced: kept
ATTNRL_TEST_KILL_AT=log:2:TERM run run.name=cut train.steps=4
size=$(stat -c %s "$tmp/cut/metrics.jsonl")
truncate -s $((size - 10)) "$tmp/cut/metrics.jsonl"
expect "short metrics.jsonl" 1 "'$tmp/cut/metrics.jsonl' has $((size - 10)) bytes, but the checkpoint of step 2 recorded $size: rows it covers are lost; restore the file, add run.resume_force=true" \
	"$bin" train "${base[@]}" run.name=cut train.steps=4
: >"$log"
run run.name=cut train.steps=4 run.resume_force=true || fail "forced resume over a short log: $(tail -n 2 "$log")"
grep -q "warning: '$tmp/cut/metrics.jsonl' has $((size - 10)) bytes, but the checkpoint of step 2 recorded $size: kept its" "$log" ||
	fail "no warning for the short log: $(grep warning "$log")"
/usr/bin/python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/cut/metrics.jsonl" ||
	fail "forced resume: metrics.jsonl has a cut or glued line"
ATTNRL_TEST_KILL_AT=log:2:TERM run run.name=gone train.steps=4
rm "$tmp/gone/metrics.jsonl"
expect "deleted metrics.jsonl" 1 "'$tmp/gone/metrics.jsonl' is missing, but the checkpoint of step 2 covers" \
	"$bin" train "${base[@]}" run.name=gone train.steps=4

# 4. signals: during the eval (a hook at step 3, then from outside in a long eval) and during
# start-up; each exits 75 in time; the rerun does the cut eval again, into its step's row
: >"$log"
ATTNRL_TEST_KILL_AT=eval:3:TERM run run.name=ev train.steps=6
rc=$?
[ $rc -eq 75 ] && grep -q "the eval of step 3 was cut short by SIGTERM; it runs again when the run resumes" "$log" &&
	grep -q "stopped by SIGTERM after step 3; checkpoint $tmp/ev/ckpt/step_3" "$log" ||
	fail "SIGTERM in the eval: exit $rc, $(tail -n 2 "$log")"
tail -n 1 "$tmp/ev/metrics.jsonl" | grep -q '^{"step": 3, .*"loss"' &&
	! tail -n 1 "$tmp/ev/metrics.jsonl" | grep -q eval_accuracy || fail "the cut eval was logged"
: >"$log"
run run.name=ev train.steps=6 || fail "resume after the eval: $(tail -n 2 "$log")"
grep -q "^eval  step 3: accuracy .*(the eval cut short by the stop)" "$log" || fail "the eval of step 3 did not run again"
same ref ev "SIGTERM in the eval"
rows_ok ev 6 "SIGTERM in the eval"
ATTNRL_TEST_KILL_AT=ckpt_write:2:TERM run run.name=cw train.steps=6
rc=$?
[ $rc -eq 75 ] && [ -e "$tmp/cw/ckpt/step_2/DONE" ] && [ ! -e "$tmp/cw/ckpt/step_3" ] &&
	grep -q "stopped by SIGTERM after step 2; checkpoint $tmp/cw/ckpt/step_2" "$log" ||
	fail "SIGTERM in a checkpoint write: exit $rc, $(tail -n 1 "$log")"
run run.name=cw train.steps=6 || fail "resume after the checkpoint write: $(tail -n 2 "$log")"
same ref cw "SIGTERM in a checkpoint write"
ATTNRL_TEST_KILL_AT=startup:0:TERM run run.name=st train.steps=6
rc=$?
[ $rc -eq 75 ] && grep -q "stopped by SIGTERM during start-up; nothing new to save" "$log" ||
	fail "SIGTERM in start-up: exit $rc, $(tail -n 1 "$log")"
[ -e "$tmp/st/config.yaml" ] && fail "start-up stopped, yet config.yaml was written"
run run.name=st train.steps=6 || fail "run after the start-up stop"
same ref st "SIGTERM in start-up"

"$bin" train "${base[@]}" run.name=long train.steps=6 train.eval_every=2 train.eval_before=false \
	data.eval_size=1000000 \
	>"$tmp/long.out" 2>&1 &
pid=$!
wait_for "$tmp/long.out" "^ckpt  step 1:" 600 0.05
sleep 1 # well into the eval of step 2 (a million problems: hours)
term_wait $pid
echo "SIGTERM in a long eval: exit $rc after ${secs}s"
[ $rc -eq 75 ] && awk -v s="$secs" 'BEGIN { exit !(s < 10) }' &&
	grep -q "the eval of step 2 was cut short by SIGTERM" "$tmp/long.out" || fail "SIGTERM in a long eval: exit $rc after ${secs}s, $(tail -n 1 "$tmp/long.out")"

# (before its handlers are installed, while the program's libraries load, a SIGTERM ends the
# process at once with exit 143, nothing written yet; the lock is taken after them)
"$bin" train "${base[@]}" run.name=boot train.steps=6 >"$tmp/boot.out" 2>&1 &
pid=$!
wait_for "$tmp/boot/LOCK" . 400 0.01
term_wait $pid
echo "SIGTERM once the run folder is locked: exit $rc after ${secs}s ($(tail -n 1 "$tmp/boot.out" | cut -c 1-60))"
[ $rc -eq 75 ] && awk -v s="$secs" 'BEGIN { exit !(s < 10) }' ||
	fail "SIGTERM in start-up from outside: exit $rc after ${secs}s, $(tail -n 1 "$tmp/boot.out")"

# sft keeps no checkpoints: a SIGTERM (here in its eval) ends it within 10 s, exit 75, with no
# model written (a rerun starts it again)
"$bin" sft "${base[@]}" run.name=sft sft.steps=8 data.eval_size=1000000 sft.out="$tmp/sft.safetensors" \
	>"$tmp/sft.out" 2>&1 &
pid=$!
wait_for "$tmp/sft.out" "^attnrl sft: .* steps of" 600 0.05
sleep 2 # past step 1, into its eval (a million problems: hours)
term_wait $pid
echo "SIGTERM in sft's eval: exit $rc after ${secs}s"
[ $rc -eq 75 ] && awk -v s="$secs" 'BEGIN { exit !(s < 10) }' && [ ! -e "$tmp/sft.safetensors" ] &&
	grep -q "^attnrl sft: stopped by SIGTERM at step 1 of 8; .* no model was written" "$tmp/sft.out" ||
	fail "SIGTERM in sft: exit $rc after ${secs}s, $(tail -n 1 "$tmp/sft.out")"

[ "$fails" -eq 0 ] && echo "run folder: lock, log failures and signals in every phase OK"
exit $((fails > 0))
