#!/usr/bin/env bash
# bench/peers.sh - `make bench-peers`: attnrl against TRL's GRPOTrainer (bench/peers_trl.py) on
# the CPU, doing the same GRPO work side by side in one run, at two shapes:
#
#   default  the embedded job's model (configs/default.yaml: 0.75M parameters, character
#            vocabulary, from data/default-sft.safetensors): 16 prompts x 8 responses, up to 64
#            new tokens, mini-batches of 64 (2 optimizer steps per rollout batch)
#   qwen3    a Qwen3-shaped model with the real Qwen3 tokenizer (dim 256, 4 layers, 4 heads /
#            2 kv heads of 64, SwiGLU 768, tied, 151,669 tokens: 42M parameters), random
#            weights: 4 prompts x 8 responses, up to 32 new tokens, mini-batches of 16 in
#            micro-batches of 8 (the 151k-token logits make every token cost what a bigger batch
#            would on the small model)
#
# For each shape, attnrl writes the model as a Hugging Face folder (`attnrl train` of 0 steps,
# then `attnrl export`: weights and tokenizer) and both sides load that folder. attnrl trains
# first and logs every response (samples.jsonl); its prompts, in its order, are TRL's data set
# (shuffle off), and the Python reward of peers_trl.py, attnrl's arith verifier, is checked
# against the reward attnrl logged for each of those responses. Same on both sides: prompts x
# group, max response length (stop at EOS only), temperature 1, constant lr 1e-4, AdamW, grad
# clip 1, optimizer steps per batch (TRL: gradient accumulation), threads (torch.set_num_threads
# and OMP_NUM_THREADS), OMP_WAIT_POLICY=passive, fp32, old log-probs recomputed, no KL, no
# entropy bonus, plain GRPO (credit.strategy none: TRL has no attention credit). TRL
# generates with transformers' generate and its KV cache (no vLLM), no gradient checkpointing,
# no logging, evaluation or saving. Step 1 of each side is a warm-up, left out of the averages.
# Prints one Markdown table per shape; everything it wrote is under build/bench-peers/.
#
#   make bench-peers                       2 threads, 6 steps (default) and 3 steps (qwen3)
#   THREADS=1 make bench-peers             1 thread
#   PEERS_STEPS=8 PEERS_QWEN3_STEPS=4      more steps (at least 2 each)
#   PEERS_SHAPES=default                   one shape only
#   PY_PEERS=path/to/python                the Python with torch, transformers, trl, datasets
#                                          (default .venv/bin/python)
#
# Both programs run with the same environment, including the glibc malloc settings of
# bench/run.sh (freed memory is not handed back to the kernel between steps; attnrl sets the
# same thresholds itself). About 4-5 minutes on 2 cores. Peak RSS is each whole process's
# (TRL's includes Python, torch and transformers). The report gives the load average before each
# shape and how many cores other processes kept busy during each run.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${THREADS:-2}"
STEPS="${PEERS_STEPS:-6}"
QSTEPS="${PEERS_QWEN3_STEPS:-3}"
SHAPES="${PEERS_SHAPES:-default qwen3}"
PY="${PY_PEERS:-.venv/bin/python}"
QWEN3_TOK="${QWEN3_TOKENIZER:-../shared/tokenizers/qwen3}"
OUT=build/bench-peers
LR=1e-4

die() { echo "bench-peers: $*" >&2; exit 1; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "THREADS='$THREADS': expected one thread count like 2"
[[ "$STEPS" =~ ^[0-9]+$ && "$STEPS" -ge 2 && "$QSTEPS" =~ ^[0-9]+$ && "$QSTEPS" -ge 2 ]] ||
	die "PEERS_STEPS='$STEPS' PEERS_QWEN3_STEPS='$QSTEPS': expected integers >= 2"
for s in $SHAPES; do
	case "$s" in default | qwen3) ;; *) die "PEERS_SHAPES='$SHAPES': expected default and/or qwen3" ;; esac
done
[ -x "$PY" ] || die "$PY not found: make the virtual environment (requirements.txt) or set PY_PEERS"
VERSIONS=$("$PY" -c 'import torch, transformers, trl, datasets
print(f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}")' 2>/dev/null) ||
	die "$PY cannot import torch, transformers, trl and datasets: pip install -r requirements.txt"
case " $SHAPES " in *" qwen3 "*) [ -f "$QWEN3_TOK/tokenizer.json" ] ||
	die "no Qwen3 tokenizer in '$QWEN3_TOK' (set QWEN3_TOKENIZER to its folder, or PEERS_SHAPES=default)" ;; esac

[ -n "${GLIBC_TUNABLES:-}" ] ||
	export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
export OMP_NUM_THREADS="$THREADS" OMP_WAIT_POLICY=passive

make --no-print-directory all >&2 || die "the build failed"
rm -rf "$OUT"
mkdir -p "$OUT/runs"

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- src include 2>/dev/null)" ] || commit="$commit + local changes"
libtorch=$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)

# the settings of each shape: attnrl keys; TRL gets the same numbers below
shape_keys() {
	case "$1" in
	default) echo "model.path=$OUT/hf-default rollout.prompts_per_step=16 rollout.group_size=8" \
		"rollout.max_new_tokens=64 algo.mini_batch=64 algo.micro_batch=64" ;;
	qwen3) echo "model.path=$OUT/hf-qwen3 rollout.prompts_per_step=4 rollout.group_size=8" \
		"rollout.max_new_tokens=32 algo.mini_batch=16 algo.micro_batch=8" ;;
	esac
}
key() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
attnrl_cmd() { # shape steps
	echo bin/attnrl train configs/default.yaml $(shape_keys "$1") train.steps="$2" \
		train.threads="$THREADS" run.dir="$OUT/runs" run.name="$1" run.resume=never \
		rollout.stop= rollout.temperature=1.0 optim.lr=$LR optim.warmup_steps=0 \
		optim.schedule=constant credit.strategy=none algo.kl_coef=0 algo.entropy_coef=0 \
		algo.recompute_logprobs=true train.eval_every=0 train.save_every=0 \
		train.samples_per_step=$(($(key rollout.prompts_per_step "$(shape_keys "$1")") *
			$(key rollout.group_size "$(shape_keys "$1")")))
}
trl_cmd() { # shape steps
	local k
	k=$(shape_keys "$1")
	echo "$PY" bench/peers_trl.py train --model "$(key model.path "$k")" \
		--prompts "$OUT/prompts-$1.jsonl" --steps "$2" \
		--prompts-per-step "$(key rollout.prompts_per_step "$k")" \
		--group "$(key rollout.group_size "$k")" --max-new "$(key rollout.max_new_tokens "$k")" \
		--temperature 1.0 --lr $LR --mini-batch "$(key algo.mini_batch "$k")" \
		--micro-batch "$(key algo.micro_batch "$k")" --threads "$THREADS" \
		--out "$OUT/trl-$1.json" --workdir "$OUT/trl-$1.work"
}

# the model of a shape as a Hugging Face folder, written by attnrl
make_model() {
	local init
	case "$1" in
	default) init="model.path=data/default-sft.safetensors" ;;
	qwen3) init="model.path= model.arch=qwen3 model.dim=256 model.n_layers=4 model.n_heads=4
		model.n_kv_heads=2 model.head_dim=64 model.hidden_dim=768 model.tie_embeddings=true
		model.max_seq_len=128 model.tokenizer=$QWEN3_TOK algo.micro_batch=8" ;;
	esac
	# shellcheck disable=SC2086 # words without spaces
	bin/attnrl train configs/default.yaml $init train.steps=0 train.eval_every=0 \
		train.threads="$THREADS" run.dir="$OUT/runs" run.name="init-$1" run.resume=never \
		>"$OUT/init-$1.log" 2>&1 && bin/attnrl export "$OUT/runs/init-$1" --out "$OUT/hf-$1" \
		>>"$OUT/init-$1.log" 2>&1 || { tail -n 5 "$OUT/init-$1.log" >&2; die "could not write the $1 model (log: $OUT/init-$1.log)"; }
}

checks=""
for s in $SHAPES; do
	steps=$STEPS
	[ "$s" = qwen3 ] && steps=$QSTEPS
	echo "bench-peers: $s: writing the model as a Hugging Face folder ..." >&2
	make_model "$s"
	load=$(uptime | sed 's/.*load average: //')
	echo "bench-peers: $s: attnrl, $THREADS thread(s), $steps steps ..." >&2
	# shellcheck disable=SC2046 # the commands are words without spaces
	"$PY" bench/measure.py run "$OUT/attnrl-$s" -- $(attnrl_cmd "$s" "$steps") || {
		tail -n 20 "$OUT/attnrl-$s.err" >&2
		die "attnrl failed (log: $OUT/attnrl-$s.out, $OUT/attnrl-$s.err)"
	}
	pps=$(key rollout.prompts_per_step "$(shape_keys "$s")")
	"$PY" bench/peers_trl.py prompts "$OUT/runs/$s/samples.jsonl" "$pps" "$OUT/prompts-$s.jsonl" ||
		die "no prompts from attnrl's samples.jsonl"
	reward=$("$PY" bench/peers_trl.py check "$OUT/runs/$s/samples.jsonl") ||
		die "the Python reward differs from attnrl's on its responses: $reward"
	"$PY" -c 'import json, sys
for l in open(sys.argv[1]): print(json.dumps(json.loads(l)["prompt"]))' "$OUT/prompts-$s.jsonl" |
		bin/attnrl tokenize --tokenizer "$OUT/hf-$s" --json >"$OUT/ids-$s.txt" ||
		die "attnrl tokenize failed on the prompts"
	tokens=$("$PY" bench/peers_trl.py tokens "$OUT/hf-$s" "$OUT/prompts-$s.jsonl" "$OUT/ids-$s.txt" 2>/dev/null) ||
		die "transformers and attnrl tokenize the prompts differently: $tokens"
	checks="$checks
- $s: reward of peers_trl.py vs attnrl's on attnrl's responses: $reward; prompt token ids,
  transformers vs attnrl: $tokens"
	echo "bench-peers: $s: TRL GRPOTrainer, $THREADS thread(s), $steps steps ..." >&2
	# shellcheck disable=SC2046
	"$PY" bench/measure.py run "$OUT/trl-$s" -- $(trl_cmd "$s" "$steps") || {
		tail -n 20 "$OUT/trl-$s.err" >&2
		die "TRL failed (log: $OUT/trl-$s.err)"
	}
	case "$s" in
	default) title="The embedded job's model: 0.75M parameters, character vocabulary"
		what="configs/default.yaml's model (data/default-sft.safetensors): 16 prompts x 8 responses, up to 64 new tokens, 2 optimizer steps of 64 per batch." ;;
	qwen3) title="Qwen3-shaped, 42M parameters, the Qwen3 tokenizer, random weights"
		what="dim 256, 4 layers, 4 heads / 2 kv heads of 64, SwiGLU 768, tied embeddings, 151,669 tokens: 4 prompts x 8 responses, up to 32 new tokens, 2 optimizer steps of 16 per batch in micro-batches of 8." ;;
	esac
	"$PY" -c 'import json, sys; json.dump(dict(title=sys.argv[1], what=sys.argv[2], load=sys.argv[3]), open(sys.argv[4], "w"))' \
		"$title" "$what" "$load" "$OUT/$s.json"
done

# shellcheck disable=SC2086 # a list of shapes
tables=$("$PY" bench/peers_trl.py table "$OUT" $SHAPES) || die "no report (see above)"
stamp=$(date +%Y%m%d-%H%M%S)
{
	echo "## attnrl vs TRL GRPOTrainer on the CPU"
	echo
	echo "$(date '+%Y-%m-%d %H:%M:%S %Z') | CPU: ${cpu:-unknown}, $(nproc) cores | threads: $THREADS" \
	     "| attnrl $commit, libtorch $libtorch | $VERSIONS | OMP_WAIT_POLICY=passive" \
	     "| GLIBC_TUNABLES=$GLIBC_TUNABLES"
	echo
	echo "Commands:"
	for s in $SHAPES; do
		steps=$STEPS
		[ "$s" = qwen3 ] && steps=$QSTEPS
		echo "- \`$(attnrl_cmd "$s" "$steps")\`"
		echo "- \`$(trl_cmd "$s" "$steps")\`"
	done
	echo
	echo "Checks:$checks"
	echo "$tables"
} | tee "$OUT/report-$stamp.md"
echo >&2
echo "bench-peers: report saved to $OUT/report-$stamp.md" >&2
