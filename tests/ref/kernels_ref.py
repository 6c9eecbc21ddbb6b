"""PyTorch reference for the q/k RMSNorm + RoPE kernel (kernels.h kern_qkv_rope), written from
the Hugging Face Qwen2 / Qwen3 conventions: projection + bias, per-head RMSNorm (Qwen3), then
the half-split rotation with tables from rope_theta.

Usage: /usr/bin/python3 tests/ref/kernels_ref.py DIR...
Each DIR/args.txt holds "B H K E THETA EPS HAS_BIAS HAS_NORM"; DIR/in.bin holds float32: q (B,H,E), k (B,K,E), v (B,K,E), bq (H*E), bk (K*E), bv (K*E),
q_norm (E), k_norm (E), pos (B); DIR/out.bin gets float32 q (B,H,E), k (B,K,E), v (B,K,E). Exits 77 when torch or numpy is missing.
"""
import sys

try:
    import numpy as np
    import torch
except ImportError:
    sys.exit(77)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rows(d, args):
    B, D, Fh = (int(a) for a in args[1:4])
    eps = float(args[4])
    a = torch.from_numpy(np.fromfile(d + "/in.bin", dtype=np.float32))
    x, add, w, gu = torch.split(a, [B * D, B * D, D, B * 2 * Fh])
    x = (x + add).view(B, D)
    out = rms_norm(x, w, eps)
    gu = gu.view(B, 2 * Fh)
    silu = torch.nn.functional.silu(gu[:, :Fh]) * gu[:, Fh:]
    torch.cat([x.reshape(-1), out.reshape(-1), silu.reshape(-1)]).numpy().tofile(d + "/out.bin")


def run(d):
    args = open(d + "/args.txt").read().split()
    if args[0] == "rows":
        return rows(d, args)
    B, H, K, E = (int(a) for a in args[0:4])
    theta, eps = float(args[4]), float(args[5])
    has_bias, has_norm = int(args[6]), int(args[7])
    a = torch.from_numpy(np.fromfile(d + "/in.bin", dtype=np.float32))
    sizes = [B * H * E, B * K * E, B * K * E, H * E, K * E, K * E, E, E, B]
    q, k, v, bq, bk, bv, qn, kn, pos = torch.split(a, sizes)
    q, k, v = q.view(B, H, E), k.view(B, K, E), v.view(B, K, E)
    if has_bias:
        q, k, v = q + bq.view(H, E), k + bk.view(K, E), v + bv.view(K, E)
    if has_norm:
        q, k = rms_norm(q, qn, eps), rms_norm(k, kn, eps)
    inv = 1.0 / (theta ** (torch.arange(0, E, 2, dtype=torch.int64).double() / E))
    freqs = torch.outer(pos.double(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().float()[:, None, :], emb.sin().float()[:, None, :]
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    torch.cat([q.reshape(-1), k.reshape(-1), v.reshape(-1)]).numpy().tofile(d + "/out.bin")


for d in sys.argv[1:]:
    run(d)
