"""weights_diff.py A B [TOL] - the largest |difference| between the tensors of two safetensors
files (same names required); prints it, exits 1 when the names differ or it exceeds TOL
(default 0: identical values)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

a, _ = st.load(sys.argv[1])
b, _ = st.load(sys.argv[2])
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
if a.keys() != b.keys():
    print(f"weights_diff: other tensors: {sorted(a.keys() ^ b.keys())[:5]}")
    sys.exit(1)
d = max(float(np.abs(a[k] - b[k]).max()) for k in a)
print(f"max |weight diff| {d:.2e}")
sys.exit(0 if d <= tol else 1)
