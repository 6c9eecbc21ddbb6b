#!/usr/bin/env bash
# test_reward_program.sh - reward programs in training and eval (reward.command):
#  - the default job with examples/rewards/math_answer.py --exact (the built-in arith rule, in
#    Python) gives the built-in verifier's rewards, eval accuracies and so the same weights,
#    byte for byte, with the replies' info objects in samples.jsonl, on 1 rank and on 2;
#    `attnrl eval` through it gives the built-in accuracy;
#  - reward.combine=add doubles every reward of the same program;
#  - a program that replies NaN to some requests: reward.on_error=zero and skip go on and count
#    them in metrics.jsonl (reward_errors) with a console line; abort ends the run with exit 1
#    and one line naming the last checkpoint; a command that does not exist ends the run at
#    its first step with one line;
#  - the two examples answer requests piped to them by hand (math-verify: SKIP without .venv,
#    required under CI=true).
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml train.steps=3 train.eval_every=2 data.eval_size=24
	train.save_every=1 train.threads=1 run.resume=never run.dir="$tmp")
py=/usr/bin/python3
exact="$py examples/rewards/math_answer.py --exact"

# metrics.jsonl without the timing members
metrics() {
	$py -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print({k: v for k, v in r.items() if not k.startswith("time_") and k != "rollout_tokens_per_s"
           and not k.startswith("reward_e") and not k.startswith("reward_t")})' "$tmp/$1/metrics.jsonl"
}

"$bin" train "${base[@]}" run.name=builtin >"$tmp/log" 2>&1 || fail "built-in: $(tail -n 1 "$tmp/log")"
"$bin" train "${base[@]}" run.name=program reward.command="$exact" >"$tmp/log" 2>&1 ||
	fail "program: $(tail -n 1 "$tmp/log")"
a=$(sha256sum <"$tmp/builtin/model.safetensors")
b=$(sha256sum <"$tmp/program/model.safetensors")
[ "$a" = "$b" ] || fail "the weights differ: built-in ${a:0:16}, program ${b:0:16}"
[ "$(metrics builtin)" = "$(metrics program)" ] || fail "metrics differ: $(diff <(metrics builtin) <(metrics program) | head -4)"
grep -q '"reward_errors": 0, "reward_timeouts": 0' "$tmp/program/metrics.jsonl" ||
	fail "no reward_errors in metrics.jsonl"
grep -q '"info": {"answer": ' "$tmp/program/samples.jsonl" || fail "no info in samples.jsonl"
echo "test_reward_program: math_answer.py --exact: model sha256 ${b:0:16} = built-in's; metrics equal"

# 2 ranks (Gloo, loopback), each with its own workers: the built-in's weights again
two() { # run name, overrides...
	local name=$1 port=$(free_port) pids=() rc=0
	shift
	for r in 0 1; do
		env RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bin" train "${base[@]}" \
			train.steps=2 run.name=$name "$@" >"$tmp/$name.$r.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ $rc -eq 0 ] || fail "2 ranks, $name: $(tail -n 1 "$tmp/$name.0.log")"
}
two builtin2
two program2 reward.command="$exact" reward.workers=2
a=$(sha256sum <"$tmp/builtin2/model.safetensors")
b=$(sha256sum <"$tmp/program2/model.safetensors")
[ "$a" = "$b" ] || fail "2 ranks: the weights differ: built-in ${a:0:16}, program ${b:0:16}"

# attnrl eval through the program: the built-in accuracy
eval_acc() { "$bin" eval --model "$tmp/builtin" --limit 40 "$@" 2>/dev/null | awk '$1 == "all" { print $4, $6 }'; }
e1=$(eval_acc)
e2=$(eval_acc reward.command="$exact")
[ -n "$e1" ] && [ "$e1" = "$e2" ] || fail "attnrl eval: built-in '$e1', program '$e2'"
echo "test_reward_program: attnrl eval, 40 problems: avg@1 and reward $e1 (built-in) = $e2 (program)"

# combine=add: the built-in reward plus the program's (the same rule): twice the reward
"$bin" train "${base[@]}" train.steps=1 train.eval_every=0 run.name=add reward.command="$exact" \
	reward.combine=add >"$tmp/log" 2>&1 || fail "add: $(tail -n 1 "$tmp/log")"
$py - "$tmp" <<'PY' || fail "combine=add is not twice the built-in reward"
import json, sys
one = lambda run: json.loads(open(f"{sys.argv[1]}/{run}/metrics.jsonl").readlines()[1 if run == "builtin" else 0])
a, b = one("builtin"), one("add")
assert b["reward_mean"] == 2 * a["reward_mean"] and b["accuracy"] == a["accuracy"], (a, b)
PY

# NaN for every 7th request (ids count from 0 over the run's requests)
cat >"$tmp/nan.py" <<'PY'
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    bad = r["id"] % 7 == 0 if len(sys.argv) < 2 else r["id"] == int(sys.argv[1])
    sys.stdout.write('{"id": %d, "reward": %s}\n' % (r["id"], "NaN" if bad else "1"))
    sys.stdout.flush()
PY
one=(configs/default.yaml train.steps=2 train.eval_every=0 train.save_every=1 train.threads=1
	run.resume=never run.dir="$tmp")
for mode in zero skip; do
	"$bin" train "${one[@]}" run.name=$mode reward.command="$py $tmp/nan.py" \
		reward.on_error=$mode >"$tmp/$mode.log" 2>&1 || fail "on_error=$mode: $(tail -n 1 "$tmp/$mode.log")"
	grep -q '"reward_errors": 19, "reward_timeouts": 0' "$tmp/$mode/metrics.jsonl" ||
		fail "on_error=$mode: step 1 should count 19 errors: $(head -c 300 "$tmp/$mode/metrics.jsonl")"
	grep -q "reward: step 1: 19 of 128 requests failed (0 time-outs; 0 worker restarts so far): worker . replied to id [0-9]* with a line that is not JSON" "$tmp/$mode.log" ||
		fail "on_error=$mode: no console line: $(grep reward "$tmp/$mode.log" | head -2)"
done
$py - "$tmp" <<'PY' || fail "on_error: zero gives 109/128 = 0.8515625 as the reward mean, skip the same with another update"
import json, sys
row = lambda run: json.loads(open(f"{sys.argv[1]}/{run}/metrics.jsonl").readline())
z, s = row("zero"), row("skip")
assert z["reward_mean"] == 109 / 128 and s["reward_mean"] == 109 / 128, (z, s)
assert z["loss"] != s["loss"], "skip left the failed groups in the update"
PY
# a run that must fail: exit 1 and its error line (stderr's last "attnrl train:" line) holding $2
fails_with() { # name, expected text, overrides...
	local name=$1 want=$2 rc
	shift 2
	"$bin" train "${one[@]}" run.name=$name "$@" >/dev/null 2>"$tmp/$name.err"
	rc=$?
	local line=$(grep '^attnrl train: ' "$tmp/$name.err" | tail -n 1)
	[ $rc -eq 1 ] && [[ "$line" == *"$want"* ]] || fail "$name: exit $rc, line: $line"
	[ "$(grep -c '^attnrl train: ' "$tmp/$name.err")" -eq 1 ] || fail "$name: more than one line: $(cat "$tmp/$name.err")"
}
fails_with abort "attnrl train: step 2: reward: 1 of 128 requests failed (0 time-outs; 0 worker restarts so far): worker" \
	reward.command="$py $tmp/nan.py 130" reward.on_error=abort
grep -q "(reward.on_error=abort); stopping: a rerun resumes from the last good checkpoint $tmp/abort/ckpt/step_1 (fix the reward program first)" "$tmp/abort.err" ||
	fail "abort: the checkpoint is not named: $(tail -n 1 "$tmp/abort.err")"
fails_with missing "attnrl train: step 1: reward.command '/nonexistent/verify': its workers ended" \
	reward.command=/nonexistent/verify
grep -q "times in a row before answering once (last: exit status 127" "$tmp/missing.err" ||
	fail "missing: $(tail -n 1 "$tmp/missing.err")"

# the examples by hand
req='{"id": 4, "task": "arith", "prompt": "1+2=", "response": "1+2=3.<answer>3</answer>", "ground_truth": "3"}'
out=$(printf '%s\n%s\n' "$req" "${req/<answer>3/<answer>4}" | sed '2s/"id": 4/"id": 5/' | sh examples/rewards/contains.sh)
[ "$out" = $'{"id": 4, "reward": 1}\n{"id": 5, "reward": 0}' ] || fail "contains.sh: $out"
venv=.venv/bin/python
if [ -x "$venv" ] && "$venv" -c 'import math_verify' 2>/dev/null; then
	out=$(printf '%s\n' '{"id": 1, "response": "so \\boxed{\\frac{1}{2}}", "ground_truth": "0.5"}' \
		'{"id": 2, "response": "<answer>0.75</answer>", "ground_truth": "3/4"}' \
		'{"id": 3, "response": "\\boxed{2}", "ground_truth": "3"}' | "$venv" examples/rewards/math_answer.py)
	want='{"id": 1, "reward": 1.0, "correct": true, "info": {"answer": "\\frac{1}{2}", "checker": "math-verify"}}
{"id": 2, "reward": 1.0, "correct": true, "info": {"answer": "0.75", "checker": "math-verify"}}
{"id": 3, "reward": 0.0, "correct": false, "info": {"answer": "2", "checker": "math-verify"}}'
	[ "$out" = "$want" ] || fail "math_answer.py: $out"
elif [ "${CI:-}" = true ]; then
	fail "math-verify is not in .venv (scripts/install-deps.sh installs it)"
else
	echo "SKIP: math_answer.py with math-verify (no .venv with math-verify)"
fi

[ $fails -eq 0 ] || exit 1
echo "test_reward_program: 0 failed"
