#!/usr/bin/env bash
# zero_memory.sh - what dist.shard_optimizer saves, measured and predicted.
#
# 1. Measured: one training step of a random-init 8-layer, 1024-wide model (~101M parameters)
#    on 2 ranks (Gloo, one thread each), with and without ZeRO-1; the peak resident memory of
#    each rank (/usr/bin/time) is compared with the prediction 8 N (1 - 1/world) bytes saved
#    (the AdamW moments of the other ranks' slices).
# 2. Predicted: the training state per GPU of Qwen3-0.6B, -4B and -8B (shapes of their
#    config.json) as attnrl keeps it (fp32 weights, gradients, the flat communication buffer,
#    AdamW moments), plain and sharded over 2 and 8 ranks; activations and the KV cache depend
#    on the batch and are not included. The table of docs/distributed.md is this output.
# Usage: bash bench/zero_memory.sh   (about 2 minutes on 2 cores, 5 GB of memory)
set -eu
cd "$(dirname "$0")/.."
make -s
dir=$(mktemp -d /tmp/attnrl_zero_XXXXXX)
trap 'rm -rf "$dir"' EXIT
cfg=(configs/default.yaml model.path= model.dim=1024 model.n_layers=8 model.n_heads=8
	model.n_kv_heads=8 rollout.prompts_per_step=2 rollout.group_size=2 algo.mini_batch=4
	rollout.max_new_tokens=8 train.steps=1 train.eval_every=0 train.threads=1 train.save_every=0
	algo.kl_coef=0 run.dir="$dir")
port=$((20000 + RANDOM % 20000))
for shard in false true; do
	for r in 0 1; do
		env RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port /usr/bin/time -f %M \
			-o "$dir/rss.$shard.$r" bin/attnrl train "${cfg[@]}" run.name=$shard \
			dist.shard_optimizer=$shard >"$dir/log.$shard.$r" 2>&1 &
	done
	wait
	port=$((port + 1))
done
n=$(/usr/bin/python3 -c "
import sys; sys.path.insert(0, 'tests/ref'); import st
w = st.load('$dir/false/model.safetensors')[0]; print(sum(a.size for a in w.values()))")
/usr/bin/python3 - "$dir" "$n" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
rss = {(s, r): int(open(f"{d}/rss.{s}.{r}").read().split()[-1]) * 1024 for s in ("false", "true") for r in (0, 1)}
want = 8 * n * (1 - 1 / 2)
for r in (0, 1):
    got = rss["false", r] - rss["true", r]
    print(f"rank {r}: peak RSS plain {rss['false', r] / 2**20:.0f} MiB, ZeRO-1 {rss['true', r] / 2**20:.0f} MiB: "
          f"saved {got / 2**20:.0f} MiB, predicted 8 N (1 - 1/2) = {want / 2**20:.0f} MiB ({got / want:.2f}x), N = {n / 1e6:.1f}M")

def qwen3(D, F, L, H, K, E, V, tied):
    layer = D * H * E + 2 * D * K * E + H * E * D + 3 * D * F + 2 * D + 2 * E
    return V * D * (1 if tied else 2) + L * layer + D
models = [("Qwen3-0.6B", qwen3(1024, 3072, 28, 16, 8, 128, 151936, True)),
          ("Qwen3-4B", qwen3(2560, 9728, 36, 32, 8, 128, 151936, True)),
          ("Qwen3-8B", qwen3(4096, 12288, 36, 32, 8, 128, 151936, False))]
G = 2**30
print("\n| model | parameters | weights + grads + comm buffer | AdamW moments, plain | per GPU, plain | per GPU, ZeRO-1 on 2 | per GPU, ZeRO-1 on 8 |")
print("|---|---|---|---|---|---|---|")
for name, N in models:
    base, mom = 12 * N, 8 * N
    print(f"| {name} | {N / 1e9:.2f}B | {base / G:.1f} GiB | {mom / G:.1f} GiB | {(base + mom) / G:.1f} GiB | "
          f"{(base + mom / 2) / G:.1f} GiB | {(base + mom / 8) / G:.1f} GiB |")
PY
