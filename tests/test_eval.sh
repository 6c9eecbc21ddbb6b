#!/usr/bin/env bash
# test_eval.sh - `attnrl eval`: every response of the default model on the arithmetic task is
# re-judged by tests/ref/eval_check.py (Python's own arithmetic) and avg@k / pass@k recomputed;
# the starting model, a run directory and its checkpoint give the trainer's own (sampled,
# eval.k=3) eval accuracy, and so does a run with rollout.ignore_eos=true; a run that started
# from a llama2.c file is evaluated with its trained weights (as its Hugging Face export); the
# four benchmarks of ../shared/data run with stories260K, with subset counts checked against
# the files; an mcq file; one-line errors (--json a folder or a full disk with the reason, a
# damaged checkpoint); no usable held-out row is an error, never a NaN.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
source tests/lib.sh
ev() { $bin eval train.threads=1 "$@"; }

# 1. sampled avg@4 on the arithmetic held-out split, re-judged in Python
ev --model data/default-sft.safetensors configs/default.yaml --k 4 --limit 48 --responses \
	--json "$tmp/k4.json" >"$tmp/k4.txt" || fail "eval k=4: $(tail -n 2 "$tmp/k4.txt")"
$py tests/ref/eval_check.py arith "$tmp/k4.json" || fail "arith k=4 re-judged"
grep -q "^all  *48  *192 " "$tmp/k4.txt" || fail "table: $(cat "$tmp/k4.txt")"

# 2. training's periodic eval (eval.k=3 sampled) and `attnrl eval` draw the same responses,
# though they batch the problems differently (13 and 21 per call): the eval before the first
# step is the starting model's, the one after it the run's and its checkpoint's
$bin train configs/default.yaml train.steps=1 rollout.prompts_per_step=4 rollout.group_size=4 \
	algo.mini_batch=16 train.eval_every=1 data.eval_size=40 train.threads=1 optim.lr=1e-3 \
	eval.k=3 eval.temperature=1.0 run.dir="$tmp" run.name=r >"$tmp/train.log" 2>&1 ||
	fail "train: $(tail -n 2 "$tmp/train.log")"
before=$(sed -n 's/^eval  step 0: accuracy \([0-9.]*\) .*/\1/p' "$tmp/train.log")
after=$($py -c 'import json,sys; print("%.3f" % json.loads(open(sys.argv[1]).readlines()[-1])["eval_accuracy"])' "$tmp/r/metrics.jsonl")
acc() { $py -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["summary"][0]["avg_at_k"])' "$1"; }
ev --model data/default-sft.safetensors configs/default.yaml eval.k=3 eval.temperature=1.0 \
	data.eval_size=40 --json "$tmp/base.json" >/dev/null
[ -n "$before" ] && [ "$(acc "$tmp/base.json")" = "$before" ] ||
	fail "eval of the starting model $(acc "$tmp/base.json") != training's eval before step 1 ($before)"
for m in "$tmp/r" "$tmp/r/ckpt/step_1"; do
	ev --model "$m" --json "$tmp/run.json" >"$tmp/run.txt" || fail "eval $m: $(cat "$tmp/run.txt")"
	grep -q "^all  *40  *120 " "$tmp/run.txt" || fail "eval $m: k=3 from the run's config: $(cat "$tmp/run.txt")"
	[ "$(acc "$tmp/run.json")" = "$after" ] || fail "eval $m: $(acc "$tmp/run.json") != training's eval $after"
done
# ... with the run's rollout.ignore_eos=true and no stop string too: both run every response to
# max_new_tokens (64), so the command samples by the run's rule, as training's eval does
$bin train configs/default.yaml train.steps=1 rollout.prompts_per_step=4 rollout.group_size=4 \
	algo.mini_batch=16 train.eval_every=1 data.eval_size=40 train.threads=1 optim.lr=1e-3 \
	eval.k=3 eval.temperature=1.0 rollout.ignore_eos=true rollout.stop= run.dir="$tmp" \
	run.name=noeos >"$tmp/noeos.log" 2>&1 || fail "train ignore_eos: $(tail -n 2 "$tmp/noeos.log")"
after=$($py -c 'import json,sys; print("%.3f" % json.loads(open(sys.argv[1]).readlines()[-1])["eval_accuracy"])' "$tmp/noeos/metrics.jsonl")
ev --model "$tmp/noeos" --json "$tmp/noeos.json" >/dev/null || fail "eval the ignore_eos run"
len=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"][0]["response_len_mean"])' "$tmp/noeos.json")
[ "$(acc "$tmp/noeos.json")" = "$after" ] && [ "$len" = 64 ] ||
	fail "eval of a rollout.ignore_eos=true run: $(acc "$tmp/noeos.json") (length $len) != training's eval $after (length 64)"

# 3. a run from a llama2.c file: its weights over the file's shape, as its export has them
S=../shared/models/stories260K
if [ -f "$S/stories260K.bin" ]; then
	T=$S/tok512.bin
	$bin train configs/default.yaml model.path=$S/stories260K.bin train.steps=1 \
		rollout.prompts_per_step=2 rollout.group_size=2 algo.mini_batch=4 rollout.max_new_tokens=8 \
		optim.lr=0.1 optim.weight_decay=1 train.eval_every=0 train.threads=1 run.dir="$tmp" \
		run.name=s >"$tmp/s.log" 2>&1 || fail "train stories260K: $(tail -n 2 "$tmp/s.log")"
	$bin export "$tmp/s" --out "$tmp/s_hf" >/dev/null || fail "export stories260K run"
	common=(--tokenizer $T --limit 20 --max-new-tokens 8 --responses)
	ev --model "$tmp/s" "${common[@]}" --json "$tmp/s.json" >/dev/null || fail "eval the stories run"
	ev --model "$tmp/s_hf" configs/default.yaml "${common[@]}" --json "$tmp/s_hf.json" >/dev/null
	ev --model $S/stories260K.bin configs/default.yaml "${common[@]}" --json "$tmp/s0.json" >/dev/null
	$py -c 'import json,sys; a,b,c=(json.load(open(f))["per_problem"] for f in sys.argv[1:]); sys.exit(0 if a==b and a!=c else 1)' \
		"$tmp/s.json" "$tmp/s_hf.json" "$tmp/s0.json" || fail "the run's weights were not the ones evaluated"

	# 4. the benchmarks, mechanically (stories260K is no math model: accuracy 0 is expected)
	D=../shared/data
	ev --model $S/stories260K.bin --data $D/math500/test.jsonl --by level --max-new-tokens 1 --limit 200 \
		--json "$tmp/m.json" >"$tmp/m.txt" || fail "math500: $(tail -n 2 "$tmp/m.txt")"
	$py tests/ref/eval_check.py subsets "$tmp/m.json" $D/math500/test.jsonl level || fail "math500 levels"
	ev --model $S/stories260K.bin --data $D/math500/test.jsonl --by subject --max-new-tokens 1 --limit 60 \
		--json "$tmp/m.json" >/dev/null || fail "math500 by subject"
	$py tests/ref/eval_check.py subsets "$tmp/m.json" $D/math500/test.jsonl subject || fail "math500 subjects"
	ev --model $S/stories260K.bin --data $D/aime24/test.jsonl --preset aime --max-new-tokens 2 \
		--json "$tmp/a.json" >"$tmp/a.txt" || fail "aime24: $(tail -n 2 "$tmp/a.txt")"
	$py -c 'import json,sys; s=json.load(open(sys.argv[1])); r=s["summary"][0]
sys.exit(0 if (s["k"],s["temperature"],s["top_p"],s["problems"],r["responses"])==(16,1,0.7,30,480) else 1)' \
		"$tmp/a.json" || fail "aime preset: $(head -3 "$tmp/a.txt")"
	expect "amc23" 0 "all                            40        40" ev --model $S/stories260K.bin --data $D/amc23/test.jsonl --max-new-tokens 2
	expect "gsm8k test" 0 "all                           100       100" ev --model $S/stories260K.bin --data $D/gsm8k/test.jsonl --max-new-tokens 1 --limit 100
else
	echo "test_eval: stories260K parts skipped ($S absent)"
fi

# 5. a multiple-choice file (data.task=mcq) goes through the same path
printf '%s\n' '{"question": "1+1=? (A) 1 (B) 2", "answer": "(B)", "level": 1}' \
	'{"question": "2+2=? (A) 4 (B) 5", "answer": "A", "level": 2}' >"$tmp/mcq.jsonl"
expect "mcq file" 0 "task mcq" ev --model data/default-sft.safetensors configs/default.yaml --data "$tmp/mcq.jsonl" data.task=mcq --by level

# 6. one-line errors
expect "k without temperature" 2 "greedy responses are all the same" $bin eval --model data/default-sft.safetensors configs/default.yaml --k 4 --temperature 0
expect "eval.k without temperature" 2 "eval.k=2 with eval.temperature=0: greedy responses are all the same" $bin config configs/default.yaml eval.k=2
# without a GPU (a CPU-only build, or no device), rollout.engine=gpu is one line
command -v nvidia-smi >/dev/null ||
	expect "rollout.engine=gpu without a GPU" 1 "rollout.engine=gpu: " \
		$bin eval --model data/default-sft.safetensors configs/default.yaml --limit 2 rollout.engine=gpu
expect "by without data" 2 "--by reads a field of the --data file" $bin eval --model data/default-sft.safetensors --by level
expect "missing model" 2 "--model 'nope.bin': not found" $bin eval --model nope.bin
expect "run and CONFIG" 2 "is a run: its own config.yaml is used" $bin eval --model "$tmp/r" configs/default.yaml
mkdir -p "$tmp/empty_run" && cp "$tmp/r/config.yaml" "$tmp/empty_run/"
expect "run without weights" 2 "a run without model.safetensors or a complete checkpoint" $bin eval --model "$tmp/empty_run"
printf '{"question": "1+1=", "answer": "2", "level": 1}\n' >"$tmp/one.jsonl"
expect "by a missing field" 1 "--by grade: no row of" $bin eval --model data/default-sft.safetensors configs/default.yaml --data "$tmp/one.jsonl" --by grade

# --json: a folder (refused before the run), or a file that cannot take the bytes, is one line
# with the reason (stderr; the table is on stdout)
evq() { ev "$@" >/dev/null; }
expect "--json a folder" 1 "--json '$tmp': cannot write it: Is a directory; give a file path" \
	ev --model data/default-sft.safetensors configs/default.yaml --limit 2 --json "$tmp"
if [ -w /dev/full ]; then
	expect "--json a full disk" 1 "--json '/dev/full': write failed, the file is incomplete: No space left on device" \
		evq --model data/default-sft.safetensors configs/default.yaml --limit 2 --responses --json /dev/full
fi
# a run's newest checkpoint is verified against its checksums, as resume does
mkdir -p "$tmp/dmg" && cp "$tmp/r/config.yaml" "$tmp/dmg/" && cp -r "$tmp/r/ckpt" "$tmp/dmg/"
ev --model "$tmp/dmg" --limit 2 >/dev/null || fail "eval of an intact checkpoint"
printf 'X' | dd of="$tmp/dmg/ckpt/step_1/model.safetensors" bs=1 seek=5000 conv=notrunc 2>/dev/null
for m in "$tmp/dmg" "$tmp/dmg/ckpt/step_1"; do
	expect "damaged checkpoint $m" 1 "step_1/model.safetensors': checksum mismatch" ev --model "$m" --limit 2
done
# no usable held-out row in eval: one line and exit 1, as train says it, never a NaN
printf '{"question": "\\u00e9+1=", "answer": "2"}\n' >"$tmp/bad.jsonl"
for i in 1 2 3 4 5 6 7 8; do printf '{"question": "%d+1=", "answer": "%d"}\n' $i $((i + 1)); done >"$tmp/short.jsonl"
ev --model data/default-sft.safetensors configs/default.yaml data.task=math data.path="$tmp/short.jsonl" \
	data.eval_path="$tmp/bad.jsonl" train.eval_every=0 >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c "attnrl eval:" "$tmp/bad.err")" -eq 1 ] &&
	grep -q "attnrl eval: data: no usable held-out row in $tmp/bad.jsonl" "$tmp/bad.err" &&
	! grep -qi nan "$tmp/bad.out" || fail "eval with 0 held-out rows: exit $rc, $(cat "$tmp/bad.err" "$tmp/bad.out")"

# no usable held-out row: train stops with one line and exit 1, never an accuracy of NaN
$py -c 'import json
for i in range(3): print(json.dumps({"question": "9" * 2000, "answer": "1"}))' >"$tmp/long.jsonl"
for i in 1 2 3 4 5 6 7 8; do printf '{"question": "%d+1=", "answer": "%d"}\n' $i $((i + 1)); done >"$tmp/short.jsonl"
$bin train configs/default.yaml data.task=math data.path="$tmp/short.jsonl" data.eval_path="$tmp/long.jsonl" \
	train.steps=1 run.dir="$tmp/noeval" >"$tmp/noeval.out" 2>"$tmp/noeval.err"
rc=$?
[ $rc -eq 1 ] && grep -q "attnrl train: data: no usable held-out row in $tmp/long.jsonl (see any warning above); give data.eval_path" "$tmp/noeval.err" &&
	! grep -qi nan "$tmp/noeval.out" || fail "0 held-out rows: exit $rc, $(cat "$tmp/noeval.err" "$tmp/noeval.out" | tail -n 2)"
$bin train configs/default.yaml data.task=math data.path="$tmp/short.jsonl" data.eval_path="$tmp/long.jsonl" \
	train.steps=1 train.eval_every=0 run.dir="$tmp/noeval" >/dev/null 2>&1 || fail "0 held-out rows with train.eval_every=0 refused"

[ "$fails" -eq 0 ] && echo "test_eval: ok"
exit $((fails > 0))
