#!/usr/bin/env bash
# test_export.sh - `attnrl export`: a one-step run exported as a Hugging Face folder holds the
# run's weights exactly (fp32: same bits; bf16: torch's rounding), judged by tests/ref/hf_ref.py
# (json + numpy + torch); a run that started from a Hugging Face folder takes its shape, dtype
# and tokenizer files from that folder, not from config.yaml's model.* keys; checkpoints by
# --step; one-line errors.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
source tests/lib.sh

if ! $py -c 'import torch, numpy' 2>/dev/null; then
	echo "test_export: SKIP ($py with torch and numpy is needed for the reference)"
	exit 0
fi
$bin train configs/default.yaml train.steps=1 rollout.prompts_per_step=2 rollout.group_size=2 \
	algo.mini_batch=4 train.eval_every=0 train.threads=1 run.dir="$tmp" run.name=r1 >"$tmp/train.log" 2>&1 ||
	fail "training: $(tail -n 3 "$tmp/train.log")"
w1=$tmp/r1/model.safetensors

expect "export fp32" 0 "float32" $bin export "$tmp/r1" --out "$tmp/hf32"
checks=("$tmp/hf32" "$w1")
expect "export bf16" 0 "bfloat16" $bin export "$tmp/r1" --out "$tmp/hfbf" --dtype bfloat16
checks+=("$tmp/hfbf" "$w1")
[ -e "$tmp/hf32.tmp" ] && fail "hf32.tmp left behind"

# a run that started from a Hugging Face folder: its config.yaml's model.* keys say another
# shape (dim 64, qwen3), the folder's config.json is what counts
echo '{"fake": "tokenizer"}' >"$tmp/hfbf/tokenizer.json"
echo '{"model_max_length": 256}' >"$tmp/hfbf/tokenizer_config.json"
mkdir -p "$tmp/r2/ckpt/step_1"
$bin config configs/default.yaml model.path="$tmp/hfbf" model.dim=64 model.arch=qwen3 >"$tmp/r2/config.yaml"
cp "$w1" "$tmp/r2/ckpt/step_1/model.safetensors"
expect "checkpoint without DONE" 1 "checkpoint without DONE" $bin export "$tmp/r2" --step 1 --out "$tmp/x"
touch "$tmp/r2/ckpt/step_1/DONE"
expect "export from an HF start" 0 "step_1/model.safetensors" $bin export "$tmp/r2" --step 1 --out "$tmp/out/nested/hf2"
cp -r "$tmp/out/nested/hf2" "$tmp/hf2_bf16"
checks+=("$tmp/hf2_bf16" "$w1")
grep -q '"torch_dtype": "bfloat16"' "$tmp/out/nested/hf2/config.json" || fail "default dtype is not the source folder's"
cmp -s "$tmp/hfbf/tokenizer.json" "$tmp/out/nested/hf2/tokenizer.json" || fail "tokenizer.json not copied"
cmp -s "$tmp/hfbf/tokenizer_config.json" "$tmp/out/nested/hf2/tokenizer_config.json" || fail "tokenizer_config.json not copied"
# exporting again into the existing folder replaces it in place
expect "export into an existing folder" 0 "float32" $bin export "$tmp/r2" --step 1 --out "$tmp/out/nested/hf2" --dtype float32
checks+=("$tmp/out/nested/hf2" "$w1")
# one Python start judges every export (torch takes a second or two to import)
$py tests/ref/hf_ref.py weights "${checks[@]}" || fail "an export differs from the run's weights"

expect "absent checkpoint" 1 "no checkpoint of step 7 (checkpoints: 1)" $bin export "$tmp/r2" --step 7 --out "$tmp/x"
expect "unfinished run" 1 "r2/model.safetensors: not found" $bin export "$tmp/r2" --out "$tmp/x"
expect "not a run" 1 "is not a run directory (no config.yaml)" $bin export "$tmp/nope" --out "$tmp/x"
expect "bad dtype" 2 "--dtype 'fp8': expected float32, bfloat16 or float16" $bin export "$tmp/r1" --out "$tmp/x" --dtype fp8
mkdir -p "$tmp/r3"
$bin config configs/default.yaml model.path="$tmp/gone" >"$tmp/r3/config.yaml"
cp "$w1" "$tmp/r3/model.safetensors"
expect "source folder gone" 1 "model.path '$tmp/gone' of the run is gone" $bin export "$tmp/r3" --out "$tmp/x"
[ -e "$tmp/x" ] && fail "a failed export left $tmp/x"
echo "test_export: $fails failed"
[ "$fails" -eq 0 ]
