"""PyTorch-eager reference of attnrl's GRPO step, for `make bench` (bench/run.sh).

The same model as configs/bench.yaml (Llama conventions of tests/ref/model_ref.py: RMSNorm,
half-split RoPE, grouped-query attention, SwiGLU, tied embeddings, char vocabulary of 100 ids,
random init with std 0.02) and the same step as src/torch/trainer.c:

  rollout : 16 arith-like prompts (BOS + ~10 chars), each prefilled once into a preallocated
            KV cache (B, K, T_max, E) per layer and copied to its 8 group members; then 128 rows
            decode one token at a time (KV writes with index_put_ at each row's position, GQA by grouping the query
            heads over the shared key/value heads), softmax(logits / T) + torch.multinomial,
            the sampled token's log-prob and the entropy kept, exactly max_new_tokens tokens.
  update  : random 0/1 rewards -> group advantages; old log-probs recomputed by a no-grad
            forward over the 128 sequences (micro-batches of 64, right padding as attnrl's
            batch pack); per mini-batch of 64: forward with grad, log_softmax/gather, PPO-clip
            loss (seq-mean-token-mean), backward, clip_grad_norm_(1.0), AdamW step, zero_grad.

Timing: rollout (generated tokens / seconds, prefill included) and update (recompute + mini-
batches) per step; step 1 is a warm-up and is left out. Prints one JSON object to stdout.

Usage: python3 bench/ref_grpo.py --threads N [--steps 6] [--seed 1]   (bench/run.sh
runs it under the system's torch 1.13 and under the environment's torch 2.x)
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ref"))
from model_ref import forward, grpo_loss, rms_norm, rope_tables  # noqa: E402

# configs/bench.yaml, mirrored
CFG = dict(dim=128, n_layers=4, n_heads=4, n_kv_heads=2, head_dim=32, hidden_dim=352,
           vocab=100, eps=1e-5, theta=10000.0, max_seq_len=256, init_std=0.02)
ROLL = dict(prompts=16, group=8, max_new=64, temperature=1.0)
ALGO = dict(mini_batch=64, micro_batch=64, clip_low=0.2, clip_high=0.2, lr=1e-4, grad_clip=1.0)
PAD, BOS = 0, 1


# ---- model -------------------------------------------------------------------------------

def init_params(g):
    D, L, H, K, E, Fh, V = (CFG[k] for k in ("dim", "n_layers", "n_heads", "n_kv_heads",
                                             "head_dim", "hidden_dim", "vocab"))
    std = CFG["init_std"]

    def normal(*shape):
        return (torch.randn(*shape, generator=g) * std).requires_grad_()

    P = {"model.embed_tokens.weight": normal(V, D)}
    for l in range(L):
        p = f"model.layers.{l}."
        P[p + "input_layernorm.weight"] = torch.ones(D, requires_grad=True)
        P[p + "self_attn.q_proj.weight"] = normal(H * E, D)
        P[p + "self_attn.k_proj.weight"] = normal(K * E, D)
        P[p + "self_attn.v_proj.weight"] = normal(K * E, D)
        P[p + "self_attn.o_proj.weight"] = normal(D, H * E)
        P[p + "post_attention_layernorm.weight"] = torch.ones(D, requires_grad=True)
        P[p + "mlp.gate_proj.weight"] = normal(Fh, D)
        P[p + "mlp.up_proj.weight"] = normal(Fh, D)
        P[p + "mlp.down_proj.weight"] = normal(D, Fh)
    P["model.norm.weight"] = torch.ones(D, requires_grad=True)
    return P


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., h:], x[..., :h]), dim=-1) * sin


def cached_forward(P, tok, pos, caches, cos_t, sin_t, mask):
    """tok, pos (N, S): tokens of the N cache rows and their positions; writes their K/V into
    caches[l] = (k, v), each (N, K, T_max, E), at pos, then attends over the first W cache
    positions (mask: (N or 1, S, W), additive). Returns the logits (N, S, V)."""
    L, H, K, E = (CFG[k] for k in ("n_layers", "n_heads", "n_kv_heads", "head_dim"))
    N, S = tok.shape
    W, g = mask.shape[-1], H // K
    mask = mask.unsqueeze(1).unsqueeze(3)                         # (N, 1, S, 1, W)
    x = P["model.embed_tokens.weight"][tok]
    cos, sin = cos_t[pos].unsqueeze(2), sin_t[pos].unsqueeze(2)   # (N, S, 1, E)
    rows = torch.arange(N).unsqueeze(1).expand(N, S)
    for l in range(L):
        p = f"model.layers.{l}."
        kc, vc = caches[l]
        h = rms_norm(x, P[p + "input_layernorm.weight"], CFG["eps"])
        q = rope((h @ P[p + "self_attn.q_proj.weight"].T).view(N, S, H, E), cos, sin)
        k = rope((h @ P[p + "self_attn.k_proj.weight"].T).view(N, S, K, E), cos, sin)
        v = (h @ P[p + "self_attn.v_proj.weight"].T).view(N, S, K, E)
        kc[rows, :, pos] = k                                      # index_put_ at (row, :, pos)
        vc[rows, :, pos] = v
        # GQA: query head h reads kv head h // g (HF's repeat_interleave), without a copy:
        # the g query heads of one kv head are stacked as extra query rows
        qg = q.view(N, S, K, g, E).permute(0, 2, 1, 3, 4).reshape(N, K, S * g, E)
        att = (qg @ kc[:, :, :W].transpose(-1, -2)) / math.sqrt(E)  # (N, K, S*g, W)
        att = torch.softmax(att.view(N, K, S, g, W) + mask, dim=-1)
        att = att.view(N, K, S * g, W) @ vc[:, :, :W]             # (N, K, S*g, E)
        att = att.view(N, K, S, g, E).permute(0, 2, 1, 3, 4).reshape(N, S, H * E)
        x = x + att @ P[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], CFG["eps"])
        gt = F.silu(h @ P[p + "mlp.gate_proj.weight"].T) * (h @ P[p + "mlp.up_proj.weight"].T)
        x = x + gt @ P[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, P["model.norm.weight"], CFG["eps"])
    return x @ P["model.embed_tokens.weight"].T


# ---- rollout -----------------------------------------------------------------------------

def arith_prompt(r):
    """'12+34-7=' with 2..3 operations, operands 1..50, running value in [0, 999]"""
    v = r.randint(1, 50)
    s = str(v)
    for _ in range(r.randint(2, 3)):
        while True:
            op, b = r.choice("+-"), r.randint(1, 50)
            nxt = v + b if op == "+" else v - b
            if 0 <= nxt <= 999:
                break
        s += f"{op}{b}"
        v = nxt
    return s + "="


def encode(text):
    # attnrl's char vocabulary: <pad> <bos> <eos> '\t' '\n' then 32..126 (ids 5..99)
    return [BOS] + [5 + ord(c) - 32 for c in text]


@torch.inference_mode()
def rollout(P, prompts, gen, cos_t, sin_t):
    n, G, R, temp = len(prompts), ROLL["group"], ROLL["max_new"], ROLL["temperature"]
    B, K, E = n * G, CFG["n_kv_heads"], CFG["head_dim"]
    lens = torch.tensor([len(p) for p in prompts])
    Pmax, T_max = int(lens.max()), int(lens.max()) + R
    # prefill: one row per prompt, right-padded, into a cache of n rows
    ids = torch.full((n, Pmax), PAD, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, :len(p)] = torch.tensor(p)
    pos = torch.arange(Pmax).unsqueeze(0).expand(n, Pmax)
    pre = [(torch.zeros(n, K, T_max, E), torch.zeros(n, K, T_max, E))
           for _ in range(CFG["n_layers"])]
    causal = torch.full((1, Pmax, Pmax), float("-inf")).triu(1)
    logits = cached_forward(P, ids, pos, pre, cos_t, sin_t, causal)
    last = logits[torch.arange(n), lens - 1]                     # (n, V)
    # the group members share their prompt's cache
    caches = [(kc.repeat_interleave(G, 0), vc.repeat_interleave(G, 0)) for kc, vc in pre]
    lens_b = lens.repeat_interleave(G)
    seq = torch.zeros(B, T_max, dtype=torch.long)
    seq[:, :Pmax] = ids.repeat_interleave(G, 0)
    logp = torch.zeros(B, R)
    ent = torch.zeros(B, R)
    ar = torch.arange(B)
    keypos = torch.arange(T_max)
    lg = last.repeat_interleave(G, 0)
    for j in range(R):
        lp_all = torch.log_softmax(lg / temp, dim=-1)
        tok = torch.multinomial(lp_all.exp(), 1, generator=gen).squeeze(1)
        logp[:, j] = lp_all.gather(1, tok.unsqueeze(1)).squeeze(1)
        ent[:, j] = -(lp_all.exp() * lp_all).sum(-1)
        at = lens_b + j
        seq[ar, at] = tok
        if j + 1 == R:
            break
        W = int(at.max()) + 1
        mask = torch.zeros(B, W).masked_fill_(keypos[:W].unsqueeze(0) > at.unsqueeze(1),
                                              float("-inf"))
        lg = cached_forward(P, tok.unsqueeze(1), at.unsqueeze(1), caches, cos_t, sin_t,
                            mask.unsqueeze(1)).squeeze(1)
    return seq, lens_b, logp, ent


# ---- update ------------------------------------------------------------------------------

def pack(seq, lens_b, first, count):
    """attnrl's batch pack: ids/targets (count, T) with T = longest prompt+response-1, right
    padding, mask on the response targets"""
    R = ROLL["max_new"]
    L = lens_b[first:first + count]
    T = int((L + R - 1).max())
    s = seq[first:first + count, :T + 1]
    j = torch.arange(T).unsqueeze(0)
    mask = ((j + 1 >= L.unsqueeze(1)) & (j + 1 < (L + R).unsqueeze(1))).float()
    return s[:, :T].contiguous(), s[:, 1:T + 1].contiguous(), mask


def token_logprobs(P, ids, targets):
    logits = forward(P, ids, CFG)
    return torch.log_softmax(logits / ROLL["temperature"], dim=-1).gather(
        -1, targets.unsqueeze(-1)).squeeze(-1)


def update(P, opt, seq, lens_b, adv):
    B, mb, micro = seq.shape[0], ALGO["mini_batch"], ALGO["micro_batch"]
    params = list(P.values())
    old, t0 = {}, time.perf_counter()
    with torch.no_grad():
        for s in range(0, B, micro):
            ids, tg, _ = pack(seq, lens_b, s, micro)
            old[s] = token_logprobs(P, ids, tg)
    t_old = time.perf_counter() - t0
    hp = dict(temperature=ROLL["temperature"], clip_low=ALGO["clip_low"],
              clip_high=ALGO["clip_high"], kl_coef=0.0, entropy_coef=0.0,
              loss_agg="seq-mean-token-mean", max_new_tokens=ROLL["max_new"])
    losses = []
    for s in range(0, B, mb):
        for ms in range(s, s + mb, micro):
            ids, tg, mask = pack(seq, lens_b, ms, micro)
            batch = dict(targets=tg, old_logp=old[ms], ref_logp=old[ms], mask=mask,
                         adv=adv[ms:ms + micro].unsqueeze(1) * mask)
            loss = grpo_loss(forward(P, ids, CFG), batch, hp) * (micro / mb)
            loss.backward()
            losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_(params, ALGO["grad_clip"])
        opt.step()
        opt.zero_grad()
    return sum(losses) / len(losses), old, t_old


def logp_mismatch(old, lens_b, logp):
    """mean |rollout log-prob - recomputed log-prob| over the response tokens: the KV-cache
    decode path against the training forward (attnrl logs the same as logp_mismatch)"""
    R, err = logp.shape[1], []
    for s, lp in old.items():
        for i in range(lp.shape[0]):
            L = int(lens_b[s + i])
            err.append((lp[i, L - 1:L - 1 + R] - logp[s + i]).abs())
    return torch.cat(err).mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prompts", type=int, default=ROLL["prompts"])
    ap.add_argument("--group", type=int, default=ROLL["group"])
    a = ap.parse_args()
    # the batch shape (bench/run.sh passes the same to attnrl): mini-batches of at most 64
    ROLL["prompts"], ROLL["group"] = a.prompts, a.group
    ALGO["mini_batch"] = ALGO["micro_batch"] = min(64, a.prompts * a.group)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    P = init_params(g)
    opt = torch.optim.AdamW(P.values(), lr=ALGO["lr"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0)
    cos_t, sin_t = rope_tables(CFG["max_seq_len"], CFG["head_dim"], CFG["theta"])
    r = random.Random(a.seed)
    n, G = ROLL["prompts"], ROLL["group"]
    steps = []
    for step in range(1, a.steps + 1):
        prompts = [encode(arith_prompt(r)) for _ in range(n)]
        t0 = time.perf_counter()
        seq, lens_b, logp, ent = rollout(P, prompts, g, cos_t, sin_t)
        t1 = time.perf_counter()
        rewards = torch.randint(0, 2, (n, G), generator=g).float()
        adv = ((rewards - rewards.mean(1, keepdim=True))
               / (rewards.std(1, keepdim=True) + 1e-6)).reshape(-1)
        loss, old, t_old = update(P, opt, seq, lens_b, adv)
        t2 = time.perf_counter()
        mism = logp_mismatch(old, lens_b, logp)
        if not mism < 1e-3:
            sys.exit(f"ref_grpo: the KV-cache decode disagrees with the full forward "
                     f"(mean |dlogp| {mism:.3g})")
        tokens = n * G * ROLL["max_new"]
        steps.append(dict(step=step, tokens=tokens, time_rollout_s=t1 - t0,
                          time_update_s=t2 - t1, time_old_logp_s=t_old, time_step_s=t2 - t0,
                          rollout_tokens_per_s=tokens / (t1 - t0), loss=loss, logp_mismatch=mism,
                          entropy=ent.mean().item(),
                          prompt_len_mean=sum(map(len, prompts)) / n))
        print(f"ref_grpo: step {step}/{a.steps} | {tokens / (t1 - t0):.0f} tok/s | "
              f"roll {t1 - t0:.2f}s upd {t2 - t1:.2f}s (old logp {t_old:.2f}s) | loss {loss:+.4f} | dlogp {mism:.2g}", file=sys.stderr)
    meas = steps[1:] if len(steps) > 1 else steps

    def mean(k):
        return sum(s[k] for s in meas) / len(meas)

    out = dict(torch=torch.__version__, threads=torch.get_num_threads(), steps=a.steps,
               measured_steps=len(meas),
               n_params=sum(p.numel() for p in P.values()),
               tokens_per_step=n * G * ROLL["max_new"],
               rollout_tokens_per_s=sum(s["tokens"] for s in meas)
               / sum(s["time_rollout_s"] for s in meas),
               time_rollout_s=mean("time_rollout_s"), time_update_s=mean("time_update_s"),
               time_old_logp_s=mean("time_old_logp_s"),
               time_step_s=mean("time_step_s"), prompt_len_mean=mean("prompt_len_mean"),
               per_step=steps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
