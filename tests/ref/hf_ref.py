"""PyTorch reference for Hugging Face model folders, written from transformers' conventions
(LlamaConfig / Qwen2Config / Qwen3Config, modeling_rope_utils), not from attnrl's code.

  hf_ref.py logits FOLDER CASE.safetensors [FOLDER CASE.safetensors ...]
      reads FOLDER as transformers would (config.json, model.safetensors or the shards of
      model.safetensors.index.json, F32/BF16/F16), runs the Llama/Qwen2/Qwen3 forward on the
      case's "ids" and compares with attnrl's "out.logits"; exit 1 when max abs err > 1e-4.
  hf_ref.py weights FOLDER FILE.safetensors
      every tensor of the fp32 FILE (attnrl's own format) must be in FOLDER exactly as torch
      converts it to the folder's torch_dtype (float32: the same bits; bfloat16/float16:
      torch's .to(dtype) bits); exit 1 on any difference.
There is no `safetensors` package on this Python: the files are read with json + numpy.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402
import st  # noqa: E402

RAW = {"F32": np.uint32, "BF16": np.uint16, "F16": np.uint16, "I64": np.int64}
ARCH = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}


def read_raw(path):
    """name -> (dtype, raw numpy array of the stored bits) and the metadata"""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=RAW[e["dtype"]])
        out[name] = (e["dtype"], arr.reshape(e["shape"]).copy())
    return out, meta


def to_f32(dtype, arr):
    if dtype == "F32":
        return torch.from_numpy(arr.view(np.float32))
    if dtype == "F16":
        return torch.from_numpy(arr.view(np.float16).astype(np.float32))
    if dtype == "BF16":
        return torch.from_numpy((arr.astype(np.uint32) << 16).view(np.float32))
    raise ValueError(dtype)


def read_folder(folder):
    """config dict and name -> (dtype, raw) over model.safetensors or its shards"""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(folder, "model.safetensors.index.json")
    files = ["model.safetensors"]
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    tensors = {}
    for name in files:
        t, meta = read_raw(os.path.join(folder, name))
        assert meta.get("format") == "pt", f"{name}: transformers needs metadata format 'pt'"
        tensors.update(t)
    return cfg, tensors


def inv_freq(cfg, E):
    """transformers' _compute_default / _linear_scaling / _llama3_parameters"""
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, E, 2, dtype=torch.int64).float() / E))
    rs = cfg.get("rope_scaling")
    kind = rs and rs.get("rope_type", rs.get("type"))
    if not rs or kind == "default":
        return inv
    if kind == "linear":
        return inv / rs["factor"]
    assert kind == "llama3", kind
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / lo, old / hi
    wavelen = 2 * math.pi / inv
    inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, inv_l)


def check_config(cfg):
    mt = cfg["model_type"]
    assert cfg["architectures"] == [ARCH[mt]], (cfg["architectures"], mt)
    for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "vocab_size", "rms_norm_eps", "rope_theta",
              "max_position_embeddings", "tie_word_embeddings", "torch_dtype", "hidden_act"):
        assert k in cfg, f"config.json lacks {k}"
    assert cfg["hidden_act"] == "silu" and not cfg.get("attention_bias", False)


def logits_main(folder, case):
    cfg, raw = read_folder(folder)
    check_config(cfg)
    P = {k: to_f32(*v) for k, v in raw.items()}
    H = cfg["num_attention_heads"]
    E = cfg.get("head_dim", cfg["hidden_size"] // H)
    mt = cfg["model_type"]
    L = cfg["num_hidden_layers"]
    n_bias = sum(f"model.layers.{l}.self_attn.{p}_proj.bias" in P for l in range(L) for p in "qkv")
    n_qkn = sum(f"model.layers.{l}.self_attn.q_norm.weight" in P for l in range(L))
    assert n_bias == (3 * L if mt == "qwen2" else 0), f"{mt}: {n_bias} q/k/v biases"
    assert n_qkn == (L if mt == "qwen3" else 0), f"{mt}: {n_qkn} q norms"
    if cfg["tie_word_embeddings"]:
        P.pop("lm_head.weight", None)
    else:
        assert "lm_head.weight" in P, "untied model without lm_head.weight"
    mcfg = {"dim": cfg["hidden_size"], "n_layers": L, "n_heads": H,
            "n_kv_heads": cfg["num_key_value_heads"], "head_dim": E, "eps": cfg["rms_norm_eps"],
            "theta": cfg["rope_theta"], "inv_freq": inv_freq(cfg, E)}
    T, _ = st.load(case)
    ids = torch.tensor(T["ids"])
    with torch.no_grad():
        ref = model_ref.forward(P, ids, mcfg)
    got = torch.tensor(T["out.logits"])
    err = (ref - got).abs().max().item()
    ok = err <= 1e-4 and ref.shape == got.shape
    rs = cfg.get("rope_scaling")
    print(f"hf_ref: {os.path.basename(folder)} ({mt}, {cfg['torch_dtype']}, rope_scaling "
          f"{rs and rs.get('rope_type')}): logits {tuple(ref.shape)}, max abs err {err:.3g}, "
          f"{'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def weights_main(folder, path):
    cfg, raw = read_folder(folder)
    check_config(cfg)
    src, _ = st.load(path)
    want = {"float32": ("F32", torch.float32), "bfloat16": ("BF16", torch.bfloat16),
            "float16": ("F16", torch.float16)}[cfg["torch_dtype"]]
    bad = []
    for name, arr in src.items():
        if name == "lm_head.weight" and cfg["tie_word_embeddings"]:
            continue
        if name not in raw:
            bad.append(f"{name}: missing")
            continue
        dtype, bits = raw[name]
        ref = torch.from_numpy(arr).to(want[1])
        ref_bits = ref.view(torch.int32 if want[1] == torch.float32 else torch.int16).numpy()
        nan = torch.isnan(ref).numpy()
        if dtype != want[0] or bits.shape != arr.shape:
            bad.append(f"{name}: {dtype} {bits.shape}, want {want[0]} {arr.shape}")
        elif not np.array_equal(bits.view(ref_bits.dtype)[~nan], ref_bits[~nan]):
            bad.append(f"{name}: bits differ from torch's .to({cfg['torch_dtype']})")
        elif not np.isnan(to_f32(dtype, bits).numpy()[nan]).all():
            bad.append(f"{name}: a NaN was not kept")
    extra = set(raw) - set(src)
    print(f"hf_ref: {os.path.basename(folder)}: {len(src)} tensors vs {os.path.basename(path)} "
          f"as {cfg['torch_dtype']}: {len(bad)} differ, {len(extra)} extra, "
          f"{'ok' if not bad and not extra else 'FAIL'}")
    for b in bad[:10]:
        print("  " + b)
    return 1 if bad or extra else 0


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    run = logits_main if mode == "logits" else weights_main
    sys.exit(max(run(args[i], args[i + 1]) for i in range(0, len(args), 2)))
