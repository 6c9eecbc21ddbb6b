#!/usr/bin/env bash
# test_oracle_hf.sh - Hugging Face transformers as the oracle of attnrl's model code:
# random-weight Llama / Qwen2 / Qwen3 folders written by transformers itself (save_pretrained,
# one of them sharded) load in attnrl with transformers' logits; attnrl's decode engine
# continues 20 prompts greedily as generate(do_sample=False) does, and its sampler's log-probs
# are transformers'; `attnrl export` (float32 and bfloat16) loads in AutoModelForCausalLM with
# attnrl's logits; with ../shared's Qwen3 and Llama 3 tokenizers carried into exports,
# AutoTokenizer gives attnrl's ids and apply_chat_template the prompts of attnrl's qwen-chat /
# llama3-chat templates. tests/ref/hf_oracle.py runs it all (one Python start) and holds the
# tolerances; tests/hf_oracle_run.c is attnrl's side beside the commands.
#
# Which oracle is which: this test judges attnrl against transformers' own classes, files,
# generate() and chat templates. tests/test_hf.c keeps the hand-written reference
# (tests/ref/hf_ref.py, plain torch) for what transformers cannot judge: the bits of attnrl's
# fp32/bf16/fp16 writer and its config.json keys, sharded folders with stray tensors, broken
# folders and their messages; it also runs where .venv is missing.
#
# Without transformers in .venv (ATTNRL_PY) the test prints a SKIP line and passes, except
# under CI=true, where that is a failure.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
run=${ATTNRL_BUILD:-build}/tests/hf_oracle_run
py=${ATTNRL_PY:-.venv/bin/python}
source tests/lib.sh

"$py" -c 'import transformers, safetensors, torch' 2>/dev/null ||
	skip_unless_ci "$py has no transformers, safetensors or torch; scripts/install-deps.sh makes .venv"
[ -x "$run" ] || { echo "test_oracle_hf: $run missing; run 'make test'"; exit 1; }

shared=../shared/tokenizers
tok=("$shared")
if [ ! -d "$shared/qwen3" ] || [ ! -d "$shared/llama3" ]; then
	echo "test_oracle_hf: tokenizer and chat template checks skipped ($shared/qwen3 and llama3 absent)"
	tok=()
fi
"$py" tests/ref/hf_oracle.py "$tmp" "$bin" "$run" "${tok[@]}" || fail "attnrl differs from transformers"
echo "test_oracle_hf: $fails failed"
[ "$fails" -eq 0 ]
