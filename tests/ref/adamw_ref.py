"""adamw_ref.py - the oracle for test_tensor's AdamW check: torch.optim.AdamW on fixed inputs.

Parameters p[i] = float32(sin(1 + i)) over two tensors of sizes 3 and 4 (flattened in order);
at step s (1..STEPS) the gradient is g[i] = float32(cos(0.5 * i + s)). Prints the parameters
after the last step, one per line. Prints "skip" when torch cannot be imported.
"""
import math
import sys

try:
    import torch
except ImportError:
    print("skip")
    sys.exit(0)

SIZES = (3, 4)
STEPS = 3
HP = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)


def main():
    n = sum(SIZES)
    flat = [math.sin(1.0 + i) for i in range(n)]
    params, off = [], 0
    for size in SIZES:
        params.append(torch.tensor(flat[off:off + size], dtype=torch.float32, requires_grad=True))
        off += size
    opt = torch.optim.AdamW(params, foreach=False, **HP)
    for s in range(1, STEPS + 1):
        g = [math.cos(0.5 * i + s) for i in range(n)]
        off = 0
        for p, size in zip(params, SIZES):
            p.grad = torch.tensor(g[off:off + size], dtype=torch.float32)
            off += size
        opt.step()
    for p in params:
        for x in p.detach().tolist():
            print("%.9g" % x)


main()
