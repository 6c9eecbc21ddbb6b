#!/usr/bin/env bash
# test_llama2c.sh - `attnrl generate` on llama2.c's stories260K reproduces run.c's greedy
# output byte for byte (tests/fixtures/stories260K, recorded from run.c; see its README): 200
# tokens from BOS, 200 after a prompt, and a full story that ends when the model emits BOS.
# Skips when ../shared/models/stories260K is absent.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh
m=../shared/models/stories260K
fx=tests/fixtures/stories260K
if [ ! -f "$m/stories260K.bin" ] || [ ! -f "$m/tok512.bin" ]; then
	echo "test_llama2c: skipped: $m/stories260K.bin and tok512.bin not found"
	exit 0
fi
gen() { $bin generate --model "$m/stories260K.bin" --tokenizer "$m/tok512.bin" --temperature 0 "$@"; }

gen --max-new-tokens 200 >"$tmp/bos.txt" || fail "generate from BOS failed"
cmp -s "$tmp/bos.txt" "$fx/greedy_bos_200.txt" || fail "200 greedy tokens from BOS differ from run.c's"

gen --max-new-tokens 200 --prompt "Once upon a time" >"$tmp/p.txt" || fail "generate with a prompt failed"
{ printf '%s' "Once upon a time"; cat "$tmp/p.txt"; } >"$tmp/prompt.txt"
cmp -s "$tmp/prompt.txt" "$fx/greedy_once_upon_a_time_200.txt" ||
	fail "200 greedy tokens after 'Once upon a time' differ from run.c's"

gen --max-new-tokens 512 >"$tmp/full.txt" || fail "generate a full story failed"
cmp -s "$tmp/full.txt" "$fx/greedy_bos_full.txt" || fail "the full story (stop at BOS) differs from run.c's"

# errors a user meets: one line, exit 1 at run time, 2 for usage
expect "tokenizer found next to the checkpoint" 0 "" $bin generate --model "$m/stories260K.bin" --max-new-tokens 4
ln -s "$(cd "$m" && pwd)/stories260K.bin" "$tmp/alone.bin"
expect "checkpoint without tokenizer" 1 "no tokenizer.bin (or tok<vocab>.bin) next to" $bin generate --model "$tmp/alone.bin"
expect "tokenizer is not a tokenizer.bin" 1 "not a llama2.c tokenizer.bin" \
	$bin generate --model "$m/stories260K.bin" --tokenizer "$m/stories260K.bin"
expect "missing model" 2 "missing --model PATH" $bin generate --prompt hi
expect "unknown flag" 2 "unknown flag '--temp'" $bin generate --model x.bin --temp 0
head -c 1000 "$m/stories260K.bin" >"$tmp/cut.bin"
expect "truncated checkpoint" 1 "implies 1056540 bytes" $bin generate --model "$tmp/cut.bin" --tokenizer "$m/tok512.bin"
# the same model through a run and a Hugging Face folder: llama2.c .bin -> train (0 steps) ->
# export -> generate from the folder prints run.c's text again
$bin train configs/default.yaml model.path="$m/stories260K.bin" train.steps=0 run.dir="$tmp/runs" \
	train.threads=1 >/dev/null 2>&1 || fail "a 0-step run from the llama2.c checkpoint failed"
$bin export "$tmp/runs/default" --out "$tmp/hf" >/dev/null 2>&1 || fail "export of the run failed"
$bin generate --model "$tmp/hf" --tokenizer "$m/tok512.bin" --temperature 0 --max-new-tokens 200 \
	>"$tmp/hf.txt" 2>&1 || fail "generate from the exported folder failed"
cmp -s "$tmp/hf.txt" "$fx/greedy_bos_200.txt" || fail "the exported Hugging Face folder generates other text than run.c"

echo "test_llama2c: $fails failed"
[ "$fails" -eq 0 ]
