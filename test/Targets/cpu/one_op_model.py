"""Shared by the CPU kernel numerics scripts: write a one-function MLIR
model, compile it with `kiln compile`, run it with `kiln run` on NumPy
inputs, and compare its first result with a reference."""
import os
import subprocess

import numpy as np


def tensor_type(a):
    dims = "x".join(map(str, a.shape))
    return f"tensor<{dims}x{'i1' if a.dtype == bool else 'f32'}>"


def compile_and_run(kiln, work, name, source, inputs):
    """Result 0 of @main in `source` on `inputs` (name -> array), or None
    after printing why the compile or the run failed."""
    case_dir = os.path.join(work, name)
    os.makedirs(case_dir, exist_ok=True)
    model = os.path.join(case_dir, "model.mlir")
    with open(model, "w") as f:
        f.write(source)
    run = [kiln, "run", os.path.join(case_dir, "model.kiln"), "--output-dir",
           os.path.join(case_dir, "out")]
    for n, a in inputs.items():
        np.save(os.path.join(case_dir, n + ".npy"), a)
        run.append("--input=" + os.path.join(case_dir, n + ".npy"))
    for step in ([kiln, "compile", model, "-o", os.path.join(case_dir, "model.kiln")], run):
        r = subprocess.run(step, capture_output=True, text=True)
        if r.returncode:
            print(f"{name}: FAIL ({os.path.basename(step[0])} {step[1]}: {r.stderr.strip()})")
            return None
    return np.load(os.path.join(case_dir, "out", "result0.npy"))


def report(name, got, want, rtol=1e-4, atol=1e-5):
    """Prints the case's verdict; True when `got` matches `want`."""
    if got is None:
        return False
    ok = got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol)
    diff = np.abs(got - want).max() if got.shape == want.shape else float("inf")
    print(f"{name}: {'ok' if ok else 'FAIL'} (max |diff| {diff:.2e})")
    return ok
