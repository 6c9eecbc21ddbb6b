"""Writes a random-weight Hugging Face folder of Qwen2.5-0.5B's shape (qwen2, q/k/v bias, tied,
494M parameters) for bench/memory.sh: config.json + model.safetensors in float32 or bfloat16.
Usage: /usr/bin/python3 bench/make_hf_folder.py DIR float32|bfloat16 [layers]
Plain numpy (no safetensors package); weights are N(0, 0.02), bf16 by truncation."""
import json
import os
import struct
import sys

import numpy as np

out, dtype = sys.argv[1], sys.argv[2]
L = int(sys.argv[3]) if len(sys.argv) > 3 else 24
D, F, H, K, V = 896, 4864, 14, 2, 151936
E = D // H
cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": D,
       "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H,
       "num_key_value_heads": K, "vocab_size": V, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
       "max_position_embeddings": 32768, "tie_word_embeddings": True, "torch_dtype": dtype,
       "hidden_act": "silu", "bos_token_id": 151643, "eos_token_id": 151643,
       "use_sliding_window": False}
shapes = [("model.embed_tokens.weight", (V, D))]
for l in range(L):
    p = f"model.layers.{l}."
    shapes += [(p + "input_layernorm.weight", (D,)), (p + "self_attn.q_proj.weight", (H * E, D)),
               (p + "self_attn.q_proj.bias", (H * E,)), (p + "self_attn.k_proj.weight", (K * E, D)),
               (p + "self_attn.k_proj.bias", (K * E,)), (p + "self_attn.v_proj.weight", (K * E, D)),
               (p + "self_attn.v_proj.bias", (K * E,)), (p + "self_attn.o_proj.weight", (D, H * E)),
               (p + "post_attention_layernorm.weight", (D,)), (p + "mlp.gate_proj.weight", (F, D)),
               (p + "mlp.up_proj.weight", (F, D)), (p + "mlp.down_proj.weight", (D, F))]
shapes.append(("model.norm.weight", (D,)))
size = 4 if dtype == "float32" else 2
header, off = {"__metadata__": {"format": "pt"}}, 0
for name, shape in shapes:
    n = int(np.prod(shape)) * size
    header[name] = {"dtype": "F32" if size == 4 else "BF16", "shape": list(shape),
                    "data_offsets": [off, off + n]}
    off += n
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
rng = np.random.default_rng(0)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for name, shape in shapes:
        x = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
        if size == 2:
            x = (x.view(np.uint32) >> 16).astype(np.uint16)
        f.write(x.tobytes())
print(f"make_hf_folder: {out}: {sum(int(np.prod(s)) for _, s in shapes) / 1e6:.1f}M parameters, "
      f"{dtype}, {8 + len(h) + off} bytes")
