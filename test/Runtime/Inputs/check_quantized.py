"""Test helper: `check_quantized.py DIR NAME...` compares each NAME's Kiln
output (DIR/NAME.out/y.npy) with the product of the NumPy-quantized weight
(max error relative to the output's largest magnitude, f32 accumulation
order allows 2e-5) and prints the quantization's own error against f32."""
import sys

import numpy as np

d, names = sys.argv[1], sys.argv[2:]
ok = True
for name in names:
    got = np.load(f"{d}/{name}.out/y.npy").astype(np.float64)
    want = np.load(f"{d}/{name}.want.npy")
    exact = np.load(f"{d}/{name}.f32.npy")
    scale = np.abs(want).max()
    err = float(np.abs(got - want).max() / scale)
    loss = float(np.abs(want - exact).max() / np.abs(exact).max())
    good = got.shape == want.shape and err < 2e-5
    ok &= good
    print(f"{name}: {'ok' if good else 'WRONG'} error {err:.2e} vs the same quantization, "
          f"quantization error {loss:.2e} vs f32")
print("all match" if ok else "MISMATCH")
