#!/usr/bin/env python3
"""compare_outputs.py DIR NAME...: DIR/out/NAME.npy against DIR/want_NAME.npy
(rtol 1e-4, atol 1e-5); prints "N outputs match" or the first mismatch."""
import os
import sys

import numpy as np

d, names = sys.argv[1], sys.argv[2:]
for n in names:
    got = np.load(os.path.join(d, "out", n + ".npy"))
    want = np.load(os.path.join(d, "want_" + n + ".npy"))
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        print(f"{n}: mismatch (shape {got.shape} vs {want.shape}, max |diff| "
              f"{np.abs(got - want).max() if got.shape == want.shape else 'n/a'})")
        sys.exit(1)
print(f"{len(names)} outputs match")
