#!/usr/bin/env bash
# logits.sh - the output layer of the update with a real vocabulary: a Qwen3-shaped model
# (random weights, dim 128, 2 layers, untied head) with the real Qwen3 tokenizer (151,669
# tokens), 8 responses of exactly N tokens per step, one mini-batch; the update's time and the
# run's peak RSS with the full [tokens x vocab] logits (model.logits_chunk=-1, one micro-batch
# of 8), with the chunked output layer (model.logits_chunk=0, the default), and chunked with
# token-budget micro-batches of two responses (algo.micro_batch_tokens) and checkpointed layers
# (train.checkpoint_layers). Medians over the steps after the first. Needs
# ../shared/tokenizers/qwen3 (or QWEN3_TOKENIZER=path).
# Usage: bash bench/logits.sh [lengths...]   (default 180 1024; THREADS=2, STEPS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s bin/attnrl >/dev/null
tok=${QWEN3_TOKENIZER:-../shared/tokenizers/qwen3}
[ -e "$tok" ] || { echo "logits: no Qwen3 tokenizer at $tok (set QWEN3_TOKENIZER)" >&2; exit 1; }
threads=${THREADS:-2}
steps=${STEPS:-3}
lengths=${*:-180 1024}
out=build/bench/logits
mkdir -p "$out"

run() { # name length chunk [keys...] -> "update_s step_s peak_gib"
	local name=$1 len=$2 chunk=$3
	shift 3
	/usr/bin/time -f "%M" -o "$out/$name.rss" bin/attnrl train configs/default.yaml \
		model.path= model.tokenizer="$tok" model.arch=qwen3 model.dim=128 model.n_layers=2 \
		model.n_heads=4 model.n_kv_heads=2 model.head_dim=32 model.tie_embeddings=false \
		model.max_seq_len=$((len + 64)) model.logits_chunk="$chunk" rollout.max_new_tokens="$len" \
		rollout.ignore_eos=true rollout.prompts_per_step=2 rollout.group_size=4 \
		algo.mini_batch=8 train.steps="$steps" train.eval_every=0 \
		train.threads="$threads" train.memory_check=false run.dir="$out" run.name="$name" \
		run.resume=never "$@" >"$out/$name.log" 2>&1 || { echo "logits: $name failed: $(tail -n 1 "$out/$name.log")" >&2; exit 1; }
	python3 - "$out/$name/metrics.jsonl" "$out/$name.rss" <<'PY'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if "time_step_s" in r][1:]  # step 1: warm-up
med = lambda k: sorted(r[k] for r in rows)[len(rows) // 2]
print(f"{med('time_update_s'):.2f} {med('time_step_s'):.2f} "
      f"{int(open(sys.argv[2]).read().split()[-1]) / 2**20:.2f}")
PY
}

echo "logits: $(date -u '+%Y-%m-%d %H:%M') UTC, $threads threads, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| response tokens | output layer | update s | step s | peak RSS GiB |"
echo "|---|---|---|---|---|"
for len in $lengths; do
	read -r upd step peak < <(run "n${len}_full" "$len" -1)
	echo "| $len | full logits | $upd | $step | $peak |"
	read -r upd step peak < <(run "n${len}_chunk" "$len" 0)
	echo "| $len | chunked (auto) | $upd | $step | $peak |"
	read -r upd step peak < <(run "n${len}_all" "$len" 0 algo.micro_batch_tokens=$((2 * (len + 64))) \
		train.checkpoint_layers=true)
	echo "| $len | chunked, 2-response token budget, checkpointed layers | $upd | $step | $peak |"
done
