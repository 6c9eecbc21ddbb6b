"""PyTorch reference for attnrl's decoder and GRPO loss, written from the Hugging Face
Llama / Qwen2 / Qwen3 conventions (not from attnrl's code).

Usage: /usr/bin/python3 tests/ref/model_ref.py CASE.safetensors
The file holds the weights (Hugging Face names), the batch (ids, targets, old_logp, ref_logp,
adv, weight), the hyperparameters in the metadata, and attnrl's own results under "out.*":
out.logits, out.loss and out.grad.<param>. Exits 1 when any differs beyond fp32 tolerance
(bf16 cases: when attnrl is further from the fp32 reference than PyTorch's own bf16 is).
"""
import math
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import st  # noqa: E402


def rms_norm(x, w, eps):  # LlamaRMSNorm: in fp32, cast back to x's dtype, then scaled
    xf = x.float()
    var = xf.pow(2).mean(-1, keepdim=True)
    return w * (xf * torch.rsqrt(var + eps)).to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_tables(T, E, theta, inv=None):
    if inv is None:
        inv = 1.0 / (theta ** (torch.arange(0, E, 2, dtype=torch.int64).float() / E))
    freqs = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def forward(P, ids, cfg, dtype=torch.float32):
    D, L, H, K, E = (cfg[k] for k in ("dim", "n_layers", "n_heads", "n_kv_heads", "head_dim"))
    eps, B, T = cfg["eps"], ids.shape[0], ids.shape[1]
    P = {k: v.to(dtype) for k, v in P.items()}  # bf16: casts autograd follows to the fp32 leaves
    cos, sin = (t.to(dtype) for t in rope_tables(T, E, cfg["theta"], cfg.get("inv_freq")))
    x = P["model.embed_tokens.weight"][ids]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)

        def proj(name, heads):
            y = h @ P[p + f"self_attn.{name}.weight"].T
            if p + f"self_attn.{name}.bias" in P:
                y = y + P[p + f"self_attn.{name}.bias"]
            return y.view(B, T, heads, E)

        q, k, v = proj("q_proj", H), proj("k_proj", K), proj("v_proj", K)
        if p + "self_attn.q_norm.weight" in P:
            q = rms_norm(q, P[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, P[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // K, dim=1)
        v = v.repeat_interleave(H // K, dim=1)
        s = q @ k.transpose(-1, -2) / math.sqrt(E) + mask
        att = torch.softmax(s, dim=-1, dtype=torch.float32).to(dtype) @ v
        x = x + att.transpose(1, 2).reshape(B, T, H * E) @ P[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        g = F.silu(h @ P[p + "mlp.gate_proj.weight"].T) * (h @ P[p + "mlp.up_proj.weight"].T)
        x = x + g @ P[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, P["model.norm.weight"], eps)
    head = P.get("lm_head.weight", P["model.embed_tokens.weight"])
    return (x @ head.T).float()


def grpo_loss(logits, batch, hp):
    lp_all = torch.log_softmax(logits / hp["temperature"], dim=-1)
    logp = lp_all.gather(-1, batch["targets"].unsqueeze(-1)).squeeze(-1)
    ratio = torch.exp(logp - batch["old_logp"])
    adv = batch["adv"]
    lo, hi = 1 - hp["clip_low"], 1 + hp["clip_high"]
    tok = -torch.min(ratio * adv, torch.clamp(ratio, lo, hi) * adv)
    if hp["kl_coef"]:
        d = batch["ref_logp"] - logp
        tok = tok + hp["kl_coef"] * (torch.exp(d) - d - 1)
    if hp["entropy_coef"]:
        ent = -(lp_all.exp() * lp_all).sum(-1)
        tok = tok - hp["entropy_coef"] * ent
    mask = batch["mask"]
    agg = hp["loss_agg"]
    if agg == "seq-mean-token-mean":
        per_seq = (tok * mask).sum(-1) / mask.sum(-1).clamp(min=1)
        return per_seq.mean()
    if agg == "token-mean":
        return (tok * mask).sum() / mask.sum()
    return ((tok * mask).sum(-1) / hp["max_new_tokens"]).mean()


def run(T, cfg, hp, batch, dtype):
    """logits, loss and every parameter's gradient of the reference in dtype"""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in T.items()
         if k.startswith("model.") or k.startswith("lm_head")}
    logits = forward(P, torch.tensor(T["ids"]), cfg, dtype)
    loss = grpo_loss(logits, batch, hp)
    loss.backward()
    out = {"logits": logits.detach().float(), "loss": loss.detach().reshape(1)}
    out.update({"grad " + k: p.grad for k, p in P.items()})
    return out


def rel(a, b):
    return ((a - b).norm() / a.norm().clamp(min=1e-12)).item()


def main(path):
    T, meta = st.load(path)
    cfg = {k: int(meta[k]) for k in ("dim", "n_layers", "n_heads", "n_kv_heads", "head_dim")}
    cfg["eps"], cfg["theta"] = float(meta["norm_eps"]), float(meta["rope_theta"])
    hp = {k: float(meta[k]) for k in ("clip_low", "clip_high", "kl_coef", "entropy_coef",
                                      "temperature", "max_new_tokens")}
    hp["loss_agg"] = meta["loss_agg"]
    batch = {k: torch.tensor(T[k]) for k in ("targets", "old_logp", "ref_logp", "adv", "mask")}
    bf16 = meta.get("dtype") == "bf16"
    ref = run(T, cfg, hp, batch, torch.float32)
    got = {"logits": torch.tensor(T["out.logits"]),
           "loss": torch.tensor(T["out.loss"]).reshape(1)}
    got.update({k: torch.tensor(T["out." + k.replace(" ", ".")]) for k in ref if k.startswith("grad ")})
    worst, fails = 0.0, []
    if bf16:
        # attnrl in bf16 must be as close to the fp32 truth as PyTorch's own bf16 computation
        # of the same model is: rel(fp32, attnrl) <= 1.5 rel(fp32, torch bf16) + 0.03 for every
        # tensor. (Two bf16 computations differ from each other by as much as each differs from
        # fp32, 5-18% of the norm depending on the CPU's kernels, so they are not compared
        # with each other.)
        torch_bf16 = run(T, cfg, hp, batch, torch.bfloat16)
        for name in ref:
            e, e_torch = rel(ref[name], got[name]), rel(ref[name], torch_bf16[name])
            worst = max(worst, e)
            if e > 1.5 * e_torch + 0.03:
                fails.append(f"{name}: error {e:.3g} of its norm against fp32, PyTorch's "
                             f"bf16 has {e_torch:.3g}")
    else:
        tols = {"logits": (1e-4, 1e-4), "loss": (1e-6, 1e-4)}
        for name in ref:
            atol, rtol = tols.get(name, (1e-6, 1e-3))
            err = (ref[name] - got[name]).abs()
            worst = max(worst, err.max().item())
            if (err - (atol + rtol * ref[name].abs())).max().item() > 0:
                fails.append(f"{name}: max abs err {err.max().item():.3g} exceeds tol")
    print(f"model_ref: {meta.get('case', path)}: loss {ref['loss'].item():.6f}, "
          f"{len(ref) - 2} grads, max {'error against fp32 relative to the norm' if bf16 else 'abs err'} "
          f"{worst:.3g}, {'FAIL' if fails else 'ok'}")
    for f in fails[:10]:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
