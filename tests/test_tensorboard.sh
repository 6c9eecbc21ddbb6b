#!/usr/bin/env bash
# test_tensorboard.sh - log.tensorboard=true: the run folder's events.out.tfevents.attnrl, read
# by TensorBoard's own reader (tests/ref/tb_check.py: both CRCs of every record, EventFileLoader
# and EventAccumulator), holds every number of every metrics.jsonl row as a scalar of the same
# tag and step (float32-equal), nothing else, and every sample as a text. After a kill and a
# resume, after a stop in the eval (whose rerun adds the eval to the checkpoint's row), with the
# option turned on or off at a resume, and after a forced resume over an event file cut short,
# the file still reads and no (tag, step) is there twice. A held-out file with "subject" labels
# adds eval_accuracy/<subject> to the eval rows: equal on 1 and 2 ranks, their mean weighted
# by the subjects' problems is eval_accuracy, and `attnrl eval --by subject` on the run's model
# gives the same numbers.
#
# Without the tensorboard package in .venv (ATTNRL_PY) the test prints a SKIP line and passes,
# except under CI=true, where that is a failure.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=${ATTNRL_PY:-.venv/bin/python}
source tests/lib.sh

"$py" -c 'import tensorboard' 2>/dev/null ||
	skip_unless_ci "$py has no tensorboard; scripts/install-deps.sh makes .venv"

base=(configs/default.yaml train.steps=4 train.eval_every=2 train.save_every=2 data.eval_size=8
	rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8 rollout.max_new_tokens=24
	train.threads=1 log.tensorboard=true run.dir="$tmp")
log=$tmp/log
run() { ("$bin" train "${base[@]}" "$@"; exit $?) >>"$log" 2>&1; } # a kill is reported to the log
events() { echo "$tmp/$1/events.out.tfevents.attnrl"; }

# tb_check.py on run $1 (further arguments passed on); its summary into $tmp/$1.tb
check() {
	local name=$1
	shift
	"$py" tests/ref/tb_check.py "$tmp/$name" "$@" >"$tmp/$name.tb" 2>&1 ||
		fail "$name: the event file does not match its logs: $(head -c 600 "$tmp/$name.tb")"
}
# the scalar and text counts of run $1's check
counts() { grep -o '[0-9]* scalars, [0-9]* texts' "$tmp/$1.tb"; }

# 1. a whole run
run run.name=ref || fail "the run: $(tail -n 2 "$log")"
check ref
[ -n "$(counts ref)" ] || fail "ref: no counts: $(cat "$tmp/ref.tb")"

# 2. killed after the logs of step 3 (the checkpoint is step 2's), then resumed
ATTNRL_TEST_KILL_AT=log:3 run run.name=kill
rc=$?
[ $rc -eq 137 ] || fail "the kill at step 3: exit $rc"
run run.name=kill || fail "the resume after the kill: $(tail -n 2 "$log")"
check kill
[ "$(counts kill)" = "$(counts ref)" ] || fail "kill and resume: $(counts kill), not $(counts ref)"

# 3. a stop in the eval of step 2: saved without it, the rerun evaluates again and adds it
ATTNRL_TEST_KILL_AT=eval:2:TERM run run.name=ev
rc=$?
[ $rc -eq 75 ] || fail "SIGTERM in the eval: exit $rc"
run run.name=ev || fail "the resume after the eval: $(tail -n 2 "$log")"
check ev
[ "$(counts ev)" = "$(counts ref)" ] || fail "stop in the eval: $(counts ev), not $(counts ref)"

# 4. the option turned on at a resume: the file starts there; turned off: the file is left
run run.name=tog train.steps=2 log.tensorboard=false || fail "tensorboard off: $(tail -n 2 "$log")"
[ -e "$(events tog)" ] && fail "log.tensorboard=false wrote an event file"
grep -q tensorboard_bytes "$tmp/tog/ckpt/step_2/trainer_state.json" &&
	fail "a checkpoint without an event file records its size"
run run.name=tog || fail "tensorboard on at the resume: $(tail -n 2 "$log")"
check tog --after 2
cp "$(events ref)" "$tmp/ref.events"
run run.name=ref train.steps=6 log.tensorboard=false || fail "tensorboard off at the resume: $(tail -n 2 "$log")"
cmp -s "$(events ref)" "$tmp/ref.events" || fail "a resume with tensorboard off changed the event file"

# 5. an event file shorter than the checkpoint says: refused, or with run.resume_force cut back
# to its whole records; a missing one is refused too
ATTNRL_TEST_KILL_AT=log:3:TERM run run.name=cut
size=$(sed -n 's/.*"tensorboard_bytes": \([0-9]*\).*/\1/p' "$tmp/cut/ckpt/step_3/trainer_state.json")
[ -n "$size" ] || fail "no tensorboard_bytes in the checkpoint of step 3"
truncate -s $((size - 5)) "$(events cut)"
expect "a short event file" 1 "'$(events cut)' has $((size - 5)) bytes, but the checkpoint of step 3 recorded $size" \
	"$bin" train "${base[@]}" run.name=cut
: >"$log"
run run.name=cut run.resume_force=true || fail "forced resume: $(tail -n 2 "$log")"
grep -q "warning: '$(events cut)' has $((size - 5)) bytes, but the checkpoint of step 3 recorded $size: kept its [0-9]* bytes of whole records" "$log" ||
	fail "no warning for the short event file: $(grep warning "$log")"
check cut --records
ATTNRL_TEST_KILL_AT=log:2:TERM run run.name=gone
rm "$(events gone)"
expect "a deleted event file" 1 "'$(events gone)' is missing, but the checkpoint of step 2 covers" \
	"$bin" train "${base[@]}" run.name=gone

# 6. held-out rows with subject labels: the eval by subject, on 1 and 2 ranks. A tiny model
# taught by `attnrl sft` to answer \boxed{1} to everything is right on the rows whose answer
# is 1: Algebra 2 of 3, Geometry 1 of 2, Number Theory 1 of 1 (rank 0 evaluates rows 1-3,
# rank 1 rows 4-6: each subject's count needs both)
subjects=(Algebra Geometry Algebra "Number Theory" Geometry Algebra)
answers=(1 1 2 1 2 1)
for i in 0 1 2 3 4 5; do
	printf '{"question": "%d+%d=", "answer": "%s", "subject": "%s"}\n' $i $((i + 2)) "${answers[$i]}" "${subjects[$i]}"
done >"$tmp/eval.jsonl"
for i in 1 2 3 4 5 6 7 8; do
	printf '{"question": "%d*3=", "answer": "1", "solution": "\\\\boxed{1}"}\n' $i
done >"$tmp/train.jsonl"
tiny=(configs/default.yaml data.task=math data.path="$tmp/train.jsonl" data.eval_path="$tmp/eval.jsonl"
	model.dim=32 model.n_layers=1 model.n_heads=2 model.n_kv_heads=1 model.max_seq_len=64
	rollout.max_new_tokens=12 rollout.stop= train.threads=1)
"$bin" sft "${tiny[@]}" model.path= sft.steps=150 sft.batch_size=8 sft.lr=1e-2 sft.warmup_steps=0 \
	sft.out="$tmp/boxed1.safetensors" run.dir="$tmp/sft" >"$tmp/sft.log" 2>&1 || fail "sft: $(tail -n 2 "$tmp/sft.log")"
math=("${tiny[@]}" model.path="$tmp/boxed1.safetensors" data.eval_size=6 rollout.prompts_per_step=2
	rollout.group_size=2 algo.mini_batch=4 train.steps=2 train.eval_every=2 log.tensorboard=true
	run.resume=never dist.timeout=60)
"$bin" train "${math[@]}" run.dir="$tmp/one" run.name=m >"$tmp/one.log" 2>&1 || fail "subjects, 1 rank: $(tail -n 2 "$tmp/one.log")"
port=$((20000 + RANDOM % 20000))
pids=()
for r in 0 1; do
	env RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
		"$bin" train "${math[@]}" run.dir="$tmp/two" run.name=m >"$tmp/two.$r.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "subjects, 2 ranks: $(tail -n 2 "$tmp/two.0.log")"; done
"$py" tests/ref/tb_check.py "$tmp/one/m" --subsets >"$tmp/one.tb" 2>&1 || fail "subjects: $(head -c 600 "$tmp/one.tb")"
"$bin" eval --model "$tmp/one/m" --data "$tmp/eval.jsonl" --by subject --json "$tmp/eval.json" \
	>"$tmp/eval.log" 2>&1 || fail "attnrl eval --by subject: $(tail -n 2 "$tmp/eval.log")"
"$py" - "$tmp/one/m/metrics.jsonl" "$tmp/two/m/metrics.jsonl" "$tmp/eval.jsonl" "$tmp/eval.json" <<'PY' || fail "eval by subject"
import json, sys
def rows(path):
    return [json.loads(l) for l in open(path)]
one, two = rows(sys.argv[1]), rows(sys.argv[2])
labels = [json.loads(l)["subject"] for l in open(sys.argv[3])]
bad = 0
for a, b in zip(one, two):
    sub_a = {k: v for k, v in a.items() if k.startswith("eval_accuracy/")}
    sub_b = {k: v for k, v in b.items() if k.startswith("eval_accuracy/")}
    if sub_a != sub_b:
        print(f"step {a['step']}: 1 rank {sub_a}, 2 ranks {sub_b}"); bad = 1
    if "eval_accuracy" not in a:
        continue
    if set(sub_a) != {"eval_accuracy/" + s for s in labels}:
        print(f"step {a['step']}: members {sorted(sub_a)} for subjects {sorted(set(labels))}"); bad = 1
        continue
    mean = sum(sub_a["eval_accuracy/" + s] for s in labels) / len(labels)
    if abs(mean - a["eval_accuracy"]) > 1e-12:
        print(f"step {a['step']}: weighted mean {mean}, eval_accuracy {a['eval_accuracy']}"); bad = 1
last = [r for r in one if "eval_accuracy" in r][-1]
want = {"Algebra": 2 / 3, "Geometry": 1 / 2, "Number Theory": 1.0}
for r in one:
    got = {k[len("eval_accuracy/"):]: v for k, v in r.items() if k.startswith("eval_accuracy/")}
    if "eval_accuracy" in r and got != want:
        print(f"step {r['step']}: {got}, want {want} (the model answers \\boxed{{1}})"); bad = 1
seen = 0
for s in json.load(open(sys.argv[4]))["summary"]:
    if s["subset"] is None:
        continue
    seen += 1
    if last.get("eval_accuracy/" + s["subset"]) != s["avg_at_k"]:
        print(f"{s['subset']}: attnrl eval {s['avg_at_k']}, the run's last eval {last}"); bad = 1
if seen != len(set(labels)):
    print(f"attnrl eval --by subject gave {seen} subsets"); bad = 1
sys.exit(bad)
PY
grep -q 'eval_accuracy/' "$tmp/ref/metrics.jsonl" && fail "a generated task's rows have subject members"

echo "test_tensorboard: $fails failed"
[ "$fails" -eq 0 ]
