#!/usr/bin/env bash
# paper-analysis.sh - the paper's Section 4 analysis with `attnrl analyze`: Qwen3-4B-Base, the
# first 70 problems of the GSM8K test set, the paper's prompt (data.template=paper: the question,
# then "Please reason step by step, and put your final answer within \boxed{}."), temperature
# 0.7, one response each of up to 1,024 tokens, statistics streamed from every layer; the
# linkages per layer third with 95% bootstrap intervals, the peak densities, and the
# perturbation test (the 2 highest- and 2 lowest-FAI tokens of each response, 2 alternatives each).
#   scripts/paper-analysis.sh MODEL_DIR [OUT_DIR]
# MODEL_DIR: a Hugging Face folder of Qwen3-4B-Base (config.json, *.safetensors, tokenizer.json);
# OUT_DIR (default build/paper-analysis): analysis.json, analysis.html, analysis.log.
# Decoding runs on the CPU engine (fp32 weights, 16 GB); on a 16-core machine expect some
# hours; THREADS (default: every core) sets train.threads. GSM8K comes from
# ../shared/data/gsm8k/test.jsonl, or GSM8K_TEST.
#
# What to expect beside the result (the paper, Qwen3-4B-Base, 70 GSM8K problems, T = 0.7):
#   Table 1, perturbation: mean Jaccard 0.534 after high-FAI tokens vs 0.631 after low-FAI
#     tokens; high < low on 87.14% of the problems.
#   Table 2, linkages: each of the three above its baseline (lift > 1): entropy higher at WAAD
#     peaks than over all tokens; receiver-head FAI peaks falling on global-head FAI peaks more
#     often than the global-peak density; FAI peaks at or right after a WAAD peak more often
#     than shuffled FAI peaks. Its baselines imply peak densities of about 20% (WAAD) and 22%
#     (global FAI) of the response tokens: compare the densities printed.
# attnrl's own choices where the paper is silent (the peak rule, the receiver heads, the layer
# thirds) are in docs/method.md section 11.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/paper-analysis.sh MODEL_DIR [OUT_DIR]}
out=${2:-build/paper-analysis}
gsm8k=${GSM8K_TEST:-../shared/data/gsm8k/test.jsonl}
bin=bin/attnrl
[ -x bin/cuda/attnrl ] && bin=bin/cuda/attnrl
[ -f "$model/config.json" ] || { echo "paper-analysis: $model has no config.json (a Hugging Face folder of Qwen3-4B-Base)" >&2; exit 2; }
[ -f "$gsm8k" ] || { echo "paper-analysis: $gsm8k is missing (set GSM8K_TEST)" >&2; exit 2; }
mkdir -p "$out"
"$bin" analyze --model "$model" --prompts "$gsm8k" --template paper --n 70 --k 1 \
	--temperature 0.7 --max-new-tokens 1024 --peaks topq --q 0.2 --perturb-k 2 \
	--alternatives 2 --json "$out/analysis.json" --html "$out/analysis.html" \
	model.max_seq_len=1536 rollout.stop= train.threads="${THREADS:-0}" 2>&1 | tee "$out/analysis.log"
echo "paper-analysis: $out/analysis.json, $out/analysis.html"
