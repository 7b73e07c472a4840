"""Checks kiln.rms_norm and kiln.rope on the CPU target's row kernels
(kiln-cpu-row-kernels) against NumPy.

Each case writes a one-op MLIR model, compiles it with `kiln compile`, runs
it with `kiln run` and compares with the formula computed here (rtol 1e-4,
atol 1e-5). The cases cover the kernels' edges: rows that are not a
multiple of the vector width (narrower vectors, down to one lane), several
normalized dimensions, a broadcast weight (the decomposition), partial rotary
(features past R copied), cos/sin broadcast over heads and batch or given
per batch, and one row. Prints one line per case; exits 1 on any mismatch.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from one_op_model import compile_and_run, report  # noqa: E402


def ttype(a):
    return f"tensor<{'x'.join(map(str, a.shape))}xf32>"


def rms_norm(x, w, axis, eps):
    axes = tuple(range(axis % x.ndim, x.ndim))
    x64 = x.astype(np.float64)
    return x64 / np.sqrt((x64 * x64).mean(axis=axes, keepdims=True) + eps) * w


def rope(x, cos, sin):
    r = cos.shape[-1]
    half = r // 2
    xr = x[..., :r].astype(np.float64)
    rotated = np.concatenate([-xr[..., half:], xr[..., :half]], axis=-1)
    return np.concatenate([xr * cos + rotated * sin, x[..., r:]], axis=-1)


def run(kiln, work, name, source, inputs, want):
    return report(name, compile_and_run(kiln, work, name, source, inputs), want)


def norm_case(kiln, work, name, shape, wshape, axis, eps=1e-6):
    rng = np.random.default_rng(len(name))
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal(wshape, dtype=np.float32)
    source = (f"func.func @main(%x: {ttype(x)}, %w: {ttype(w)}) -> {ttype(x)} {{\n"
              f"  %y = kiln.rms_norm %x, %w {{axis = {axis} : i64, epsilon = {eps:e} : f32}}"
              f" : {ttype(x)}, {ttype(w)}\n  return %y : {ttype(x)}\n}}\n")
    return run(kiln, work, name, source, {"x": x, "w": w}, rms_norm(x, w, axis, eps))


def rope_case(kiln, work, name, shape, cshape):
    rng = np.random.default_rng(len(name))
    x = rng.standard_normal(shape, dtype=np.float32)
    angles = rng.uniform(0, 6.28, cshape[:-1] + (cshape[-1] // 2,))
    angles = np.concatenate([angles, angles], axis=-1)
    cos, sin = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
    source = (f"func.func @main(%x: {ttype(x)}, %c: {ttype(cos)}, %s: {ttype(sin)}) -> "
              f"{ttype(x)} {{\n  %y = kiln.rope %x, %c, %s : {ttype(x)}, {ttype(cos)}, "
              f"{ttype(sin)}\n  return %y : {ttype(x)}\n}}\n")
    return run(kiln, work, name, source, {"x": x, "c": cos, "s": sin}, rope(x, cos, sin))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--work", required=True)
    a = parser.parse_args()
    k, w = a.kiln, a.work
    results = [
        norm_case(k, w, "norm_llama_rows", (1, 37, 512), (512,), -1),
        norm_case(k, w, "norm_odd_width", (5, 24), (24,), -1, eps=1e-5),
        norm_case(k, w, "norm_one_lane", (3, 7), (7,), 1),
        norm_case(k, w, "norm_two_dims", (2, 6, 4, 8), (4, 8), 2),
        # A weight that broadcasts over the normalized dims keeps the
        # decomposition.
        norm_case(k, w, "norm_broadcast_weight", (2, 6, 4, 8), (8,), 2),
        norm_case(k, w, "norm_one_row", (1, 64), (64,), -1),
        rope_case(k, w, "rope_llama_heads", (1, 8, 33, 64), (33, 64)),
        rope_case(k, w, "rope_partial_per_batch", (2, 3, 5, 20), (2, 1, 5, 12)),
        rope_case(k, w, "rope_mla_small_half", (1, 4, 9, 16), (1, 1, 9, 16)),
        rope_case(k, w, "rope_odd_half", (3, 6), (3, 6)),
        rope_case(k, w, "rope_broadcast_rows", (2, 4, 10), (1, 10)),
    ]
    print(f"{sum(results)}/{len(results)} row-kernel cases match")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
