#!/usr/bin/env bash
# test_ckpt_verify.sh - checkpoints are checked before a resume loads them: a byte flipped in
# model.safetensors or optimizer.safetensors of the newest checkpoint is found by its CRC-32C
# and the run resumes from the previous one, saying so in one line, and ends byte-identical to
# an uninterrupted run; with no earlier checkpoint it refuses (one line, exit 1); edited
# trainer_state.json values (negative step or data_cursor, a step that is not the folder's,
# an unknown format, a repeated key) are refused in one line each with exit 1; a checkpoint
# without checksums (format 1) still resumes; `attnrl export --step N` checks the weights; a
# save first removes the checkpoints beyond train.keep_last - 1, and a failed save (ulimit -f)
# says that a lower train.keep_last can help.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

base=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	rollout.max_new_tokens=24 train.threads=1 train.save_every=1 train.eval_every=0
	train.keep_last=0 run.dir="$tmp")
export OMP_WAIT_POLICY=passive
train() { "$bin" train "${base[@]}" "$@" >"$tmp/out" 2>"$tmp/err"; }

# flips the middle byte of a file
flip() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[1], "wb").write(bytes(b))
PY
}

# the stderr of the last train is one line holding $2, with exit code $3 (in $rc)
one_line() {
	[ "$rc" -eq "$3" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF -- "$2" "$tmp/err" ||
		fail "$1: exit $rc (want $3), stderr: $(cat "$tmp/err")"
}

train run.name=ref train.steps=4 || fail "reference run: $(tail -n 1 "$tmp/err")"

# a flipped byte in the newest checkpoint: the previous one is used, the end is the same
train run.name=a train.steps=3 || fail "run a: $(tail -n 1 "$tmp/err")"
flip "$tmp/a/ckpt/step_3/model.safetensors"
train run.name=a train.steps=4
rc=$?
one_line "flipped model byte" "attnrl train: warning: '$tmp/a/ckpt/step_3/model.safetensors': checksum mismatch (CRC-32C " 0
grep -qF "the file is damaged; resuming from the previous checkpoint $tmp/a/ckpt/step_2" "$tmp/err" ||
	fail "fallback line: $(cat "$tmp/err")"
grep -qF "resumed from $tmp/a/ckpt/step_2 " "$tmp/out" || fail "not resumed from step_2: $(grep resumed "$tmp/out")"
cmp -s "$tmp/ref/model.safetensors" "$tmp/a/model.safetensors" || fail "after the fallback: model.safetensors differs"
cmp -s "$tmp/ref/samples.jsonl" "$tmp/a/samples.jsonl" || fail "after the fallback: samples.jsonl differs"

# the only checkpoint damaged: refused
train run.name=o train.steps=1 || fail "run o: $(tail -n 1 "$tmp/err")"
cp -r "$tmp/o/ckpt/step_1" "$tmp/good"
flip "$tmp/o/ckpt/step_1/optimizer.safetensors"
train run.name=o train.steps=2
rc=$?
one_line "flipped optimizer byte" "attnrl train: '$tmp/o/ckpt/step_1/optimizer.safetensors': checksum mismatch" 1
grep -qF "the file is damaged; no earlier complete checkpoint to fall back to; rerun with run.resume=never to start over" "$tmp/err" ||
	fail "refusal line: $(cat "$tmp/err")"

# edited trainer_state.json: one line each, exit 1
edit() { # from, to, expected text
	rm -rf "$tmp/o/ckpt/step_1"
	cp -r "$tmp/good" "$tmp/o/ckpt/step_1"
	sed -i "s/$1/$2/" "$tmp/o/ckpt/step_1/trainer_state.json"
	train run.name=o train.steps=2
	rc=$?
	one_line "trainer_state.json $2" "$3" 1
}
state="'$tmp/o/ckpt/step_1/trainer_state.json'"
edit '"step": 1,' '"step": -3,' "attnrl train: $state: step is -3; it cannot be negative; no earlier"
edit '"step": 1,' '"step": 5,' "attnrl train: $state: step is 5 but the folder is step_1; no earlier"
edit '"data_cursor": 4' '"data_cursor": -1' "attnrl train: $state: data_cursor is -1; it cannot be negative"
edit '"format": 2' '"format": 99' "attnrl train: $state: format 99 is not one this attnrl reads (1 to 2)"
edit '"step": 1,' '"step": 1, "step": 1,' "trainer_state.json: line 1 col 26: duplicate key \"step\""
mkdir -p "$tmp/elsewhere"
cp -r "$tmp/a/ckpt/step_2" "$tmp/elsewhere/"
sed -i 's/"step": 2,/"step": 1,/' "$tmp/elsewhere/step_2/trainer_state.json"
train run.name=e train.steps=3 run.resume="$tmp/elsewhere/step_2"
rc=$?
one_line "run.resume=<folder>" "attnrl train: run.resume: '$tmp/elsewhere/step_2/trainer_state.json': step is 1 but the folder is step_2; give another checkpoint, auto or never" 1

# format 1 (no checksums) still resumes, unchecked
rm -rf "$tmp/o/ckpt/step_1"
cp -r "$tmp/good" "$tmp/o/ckpt/step_1"
sed -i 's/"format": 2/"format": 1/; s/, "crc32c": {[^}]*}//' "$tmp/o/ckpt/step_1/trainer_state.json"
grep -q crc32c "$tmp/o/ckpt/step_1/trainer_state.json" && fail "the checksums were not stripped"
train run.name=o train.steps=2 || fail "format 1 checkpoint: $(cat "$tmp/err")"
grep -qF "resumed from $tmp/o/ckpt/step_1 " "$tmp/out" || fail "format 1: not resumed from step_1"
cmp -s "$tmp/o/ckpt/step_2/model.safetensors" "$tmp/ref/ckpt/step_2/model.safetensors" || fail "format 1 resume: step_2 differs"

# a save first removes the oldest beyond train.keep_last - 1; a failed save says so
train run.name=k train.steps=3 train.keep_last=3 || fail "run k: $(tail -n 1 "$tmp/err")"
[ "$(ls "$tmp/k/ckpt")" = "$(printf 'step_1\nstep_2\nstep_3')" ] || fail "keep_last=3: $(ls "$tmp/k/ckpt")"
(ulimit -f 4000; train run.name=k train.steps=5 train.keep_last=3)
rc=$?
[ $rc -eq 1 ] && grep -qF "checkpoint of step 4 not saved: " "$tmp/err" &&
	grep -qF "File too large; the previous checkpoint ckpt/step_3 is intact; free space, or lower train.keep_last (now 3; a save first removes the oldest down to train.keep_last - 1), and rerun to resume from it" "$tmp/err" ||
	fail "failed save with keep_last=3: exit $rc, $(cat "$tmp/err")"
[ "$(ls "$tmp/k/ckpt")" = "$(printf 'step_2\nstep_3')" ] || fail "pruned before the save: ckpt/ holds $(ls -a "$tmp/k/ckpt")"

# export of a damaged checkpoint
flip "$tmp/a/ckpt/step_1/model.safetensors"
expect "export of a damaged checkpoint" 1 "'$tmp/a/ckpt/step_1/model.safetensors': checksum mismatch" \
	"$bin" export "$tmp/a" --step 1 --out "$tmp/x"
echo "test_ckpt_verify: $fails failed"
[ "$fails" -eq 0 ]
