#!/usr/bin/env bash
# memory.sh - peak resident memory of loading a Hugging Face folder: a random-weight folder of
# Qwen2.5-0.5B's shape (494M parameters, ~2 GB in fp32) is written under /tmp, loaded by
# build/bench/load_model (hf_read_config + model_create_empty + hf_load_weights, as policy.c;
# no decode engine, so no KV cache; rope tables for 256 positions), and VmHWM is compared with
# the file size (fp32; goal < 1.3) and with the fp32 parameter bytes (bf16). Removed at exit.
# Usage: bash bench/memory.sh [layers]   (24 = the real depth)
set -eu
cd "$(dirname "$0")/.."
layers=${1:-24}
make -s build/bench/load_model
dir=$(mktemp -d /tmp/attnrl_mem_XXXXXX)
trap 'rm -rf "$dir"' EXIT
for dtype in float32 bfloat16; do
	/usr/bin/python3 bench/make_hf_folder.py "$dir/$dtype" "$dtype" "$layers"
	bytes=$(stat -c %s "$dir/$dtype/model.safetensors")
	line=$(/usr/bin/time -f '%M' -o "$dir/time.txt" build/bench/load_model "$dir/$dtype" 256)
	echo "load_model: $line"
	/usr/bin/python3 - "$line" "$bytes" "$(cat "$dir/time.txt")" <<'PY'
import json, sys
r, file_bytes, time_kb = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
hwm = r["hwm_kb"] * 1024
print(f"{r['torch_dtype']:>8}: file {file_bytes / 2**30:.3f} GiB, fp32 params {r['fp32_bytes'] / 2**30:.3f} GiB, "
      f"peak RSS {hwm / 2**30:.3f} GiB (time -v: {time_kb / 2**20:.3f} GiB; before loading "
      f"{r['hwm_before_kb'] / 2**20:.3f} GiB): peak/file {hwm / file_bytes:.3f}, "
      f"peak/fp32 params {hwm / r['fp32_bytes']:.3f}")
PY
	rm -rf "$dir/$dtype"
done
