"""Checks kiln.attention on the CPU target against a NumPy reference.

Each case writes a one-op MLIR model, compiles it with `kiln compile`, runs
it with `kiln run` and compares the output with softmax(q kᵀ scale + mask) v
computed here (rtol 1e-4, atol 1e-5). The cases cover the fused kernel's
edges: grouped heads, causal with and without a cache, key and row counts
that are not multiples of the blocks, head dims that are not multiples of
the vector width, float and boolean masks (with fully hidden rows), a
single workgroup, decode steps whose keys are split across workgroups, and
Q/K/V/output in the projections' [B, S, H, D] layout (read and written
through transposed views), and K in two feature parts (MLA's absorbed decode). Prints one line per case; exits 1 on any mismatch.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from one_op_model import compile_and_run, report, tensor_type  # noqa: E402


def reference(q, k, v, mask, causal, scale):
    _, hq, sq, _ = q.shape
    hkv, length = k.shape[1], k.shape[2]
    k = np.repeat(k, hq // hkv, axis=1).astype(np.float64)
    v = np.repeat(v, hq // hkv, axis=1).astype(np.float64)
    s = np.einsum("bhid,bhjd->bhij", q.astype(np.float64), k) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    if causal:
        i = np.arange(sq)[:, None]
        j = np.arange(length)[None, :]
        s = np.where(j <= i + (length - sq), s, -np.inf)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isinf(m), 0, m))
    z = e.sum(-1, keepdims=True)
    p = np.where(z == 0, 0, e / np.where(z == 0, 1, z))
    return np.einsum("bhij,bhje->bhie", p, v)


def run_bshd_case(kiln, work, name, b, hq, hkv, s, d, causal=True):
    """Q, K, V given as [B, S, H, D] and transposed to heads first in the
    model, the output transposed back: the kernel reads and writes the
    projections' layout in place (strided views)."""
    rng = np.random.default_rng(len(name))
    q = rng.standard_normal((b, s, hq, d), dtype=np.float32)
    k = rng.standard_normal((b, s, hkv, d), dtype=np.float32)
    v = rng.standard_normal((b, s, hkv, d), dtype=np.float32)
    t = lambda a: tensor_type(a.transpose(0, 2, 1, 3))
    source = (f"func.func @main(%q: {tensor_type(q)}, %k: {tensor_type(k)}, %v: {tensor_type(v)})"
              f" -> {tensor_type(q)} {{\n"
              f"  %qt = kiln.transpose %q perm = [0, 2, 1, 3] : {tensor_type(q)}\n"
              f"  %kt = kiln.transpose %k perm = [0, 2, 1, 3] : {tensor_type(k)}\n"
              f"  %vt = kiln.transpose %v perm = [0, 2, 1, 3] : {tensor_type(v)}\n"
              f"  %o = kiln.attention %qt, %kt, %vt{' {causal}' if causal else ''} : {t(q)}, "
              f"{t(k)}, {t(v)} -> {t(q)}\n"
              f"  %ot = kiln.transpose %o perm = [0, 2, 1, 3] : {t(q)}\n"
              f"  return %ot : {tensor_type(q)}\n}}\n")
    got = compile_and_run(kiln, work, name, source, {"q": q, "k": k, "v": v})
    heads = lambda a: a.transpose(0, 2, 1, 3)
    want = heads(reference(heads(q), heads(k), heads(v), None, causal, 1 / np.sqrt(d)))
    return report(name, got, want)


def run_split_key_case(kiln, work, name, hq, length, d1, d2, causal=False):
    """MLA's absorbed decode: K = [latent, RoPE key] concatenated on the
    features, V the latent; the kernel takes dot products over each part
    in place (no concatenated copy of the cache)."""
    rng = np.random.default_rng(len(name))
    q = rng.standard_normal((1, hq, 1, d1 + d2), dtype=np.float32)
    ka = rng.standard_normal((1, 1, length, d1), dtype=np.float32)
    kb = rng.standard_normal((1, 1, length, d2), dtype=np.float32)
    kt = f"tensor<1x1x{length}x{d1 + d2}xf32>"
    out = f"tensor<1x{hq}x1x{d1}xf32>"
    source = (f"func.func @main(%q: {tensor_type(q)}, %ka: {tensor_type(ka)}, "
              f"%kb: {tensor_type(kb)}) -> {out} {{\n"
              f"  %k = kiln.concat %ka, %kb axis = 3 : {tensor_type(ka)}, {tensor_type(kb)}\n"
              f"  %o = kiln.attention %q, %k, %ka{' {causal}' if causal else ''} : "
              f"{tensor_type(q)}, {kt}, {tensor_type(ka)} -> {out}\n"
              f"  return %o : {out}\n}}\n")
    got = compile_and_run(kiln, work, name, source, {"q": q, "ka": ka, "kb": kb})
    want = reference(q, np.concatenate([ka, kb], axis=3), ka, None, causal,
                     1 / np.sqrt(d1 + d2))
    return report(name, got, want)


def run_case(kiln, work, name, b, hq, hkv, sq, length, d, dv, causal=False, mask=None, past=0):
    rng = np.random.default_rng(len(name))
    new = length - past
    q = rng.standard_normal((b, hq, sq, d), dtype=np.float32)
    k = rng.standard_normal((b, hkv, new, d), dtype=np.float32)
    v = rng.standard_normal((b, hkv, new, dv), dtype=np.float32)
    inputs = {"q": q, "k": k, "v": v}
    if mask is not None:
        inputs["m"] = mask
    if past:
        inputs["pk"] = rng.standard_normal((b, hkv, past, d), dtype=np.float32)
        inputs["pv"] = rng.standard_normal((b, hkv, past, dv), dtype=np.float32)
    args = ", ".join(f"%{n}: {tensor_type(a)}" for n, a in inputs.items())
    out = f"tensor<{b}x{hq}x{sq}x{dv}xf32>"
    extra = f" mask(%m : {tensor_type(mask)})" if mask is not None else ""
    results = out
    if past:
        extra += (f" past(%pk, %pv : {tensor_type(inputs['pk'])}, "
                  f"{tensor_type(inputs['pv'])})")
        results = (f"{out}, tensor<{b}x{hkv}x{length}x{d}xf32>, "
                   f"tensor<{b}x{hkv}x{length}x{dv}xf32>")
    attrs = " {causal}" if causal else ""
    count = "%o:3" if past else "%o"
    source = (f"func.func @main({args}) -> ({results}) {{\n"
              f"  {count} = kiln.attention %q, %k, %v{extra}{attrs} : {tensor_type(q)}, "
              f"{tensor_type(k)}, {tensor_type(v)} -> {results}\n"
              f"  return {'%o#0, %o#1, %o#2' if past else '%o'} : {results}\n}}\n")
    got = compile_and_run(kiln, work, name, source, inputs)
    key = np.concatenate([inputs["pk"], k], axis=2) if past else k
    value = np.concatenate([inputs["pv"], v], axis=2) if past else v
    want = reference(q, key, value, mask, causal, 1 / np.sqrt(d))
    return report(name, got, want)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--work", required=True)
    a = parser.parse_args()
    rng = np.random.default_rng(7)
    hidden_rows = rng.standard_normal((1, 2, 70, 70)) > 0
    hidden_rows[0, 1, 5, :] = False
    cases = [
        ("gqa_causal_ragged", dict(b=1, hq=4, hkv=2, sq=100, length=100, d=32, dv=32,
                                   causal=True)),
        ("batched_mha", dict(b=2, hq=8, hkv=8, sq=64, length=64, d=64, dv=64)),
        ("decode_cache", dict(b=1, hq=8, hkv=2, sq=1, length=77, d=32, dv=32, causal=True,
                              past=76)),
        ("prefill_cache_causal", dict(b=1, hq=2, hkv=2, sq=20, length=150, d=16, dv=16,
                                      causal=True, past=130)),
        ("odd_head_dims_float_mask", dict(b=1, hq=2, hkv=1, sq=5, length=5, d=12, dv=7,
                                          mask=rng.standard_normal((1, 1, 5, 5)).astype(
                                              np.float32))),
        ("bool_mask_hidden_row", dict(b=1, hq=2, hkv=2, sq=70, length=70, d=16, dv=16,
                                      mask=hidden_rows)),
        ("mla_dims_full_mask", dict(b=1, hq=4, hkv=4, sq=130, length=130, d=48, dv=32,
                                    causal=True, mask=rng.standard_normal(
                                        (1, 4, 130, 130)).astype(np.float32))),
        ("one_workgroup", dict(b=1, hq=1, hkv=1, sq=16, length=64, d=32, dv=32)),
        # Decode with a long cache: few row blocks, so the keys are split
        # (4 and 10 splits) and the partial softmaxes combined.
        ("decode_split_keys", dict(b=1, hq=8, hkv=2, sq=1, length=1000, d=64, dv=64,
                                   causal=True, past=999)),
        ("mqa_decode_split_float_mask", dict(b=1, hq=4, hkv=1, sq=1, length=2600, d=32, dv=16,
                                             past=2599, mask=rng.standard_normal(
                                                 (1, 1, 1, 2600)).astype(np.float32))),
    ]
    results = [run_case(a.kiln, a.work, name, **kw) for name, kw in cases]
    # The projections' [B, S, H, D] layout read and written in place.
    results.append(run_bshd_case(a.kiln, a.work, "bshd_layout_gqa_causal", b=2, hq=4, hkv=2,
                                 s=70, d=32))
    results.append(run_bshd_case(a.kiln, a.work, "bshd_layout_decode_rows", b=1, hq=4, hkv=4,
                                 s=3, d=16, causal=False))
    # K in two feature parts read in place (MLA's absorbed decode), the
    # keys split over workgroups too; and a narrow part (one lane at a time).
    results.append(run_split_key_case(a.kiln, a.work, "split_key_parts_mla_decode", hq=8,
                                      length=1500, d1=128, d2=16))
    results.append(run_split_key_case(a.kiln, a.work, "split_key_parts_odd_width", hq=4,
                                      length=40, d1=32, d2=5, causal=True))
    print(f"{sum(results)}/{len(results)} attention cases match")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
