#!/usr/bin/env python3
"""Compiles and runs kiln.matmul for shapes that exercise every path of the
CPU micro-kernel (full tiles, leftover rows and columns, a single row,
batches, several K blocks and panels) and compares with float64 numpy.

usage: check_matmul.py KILN WORKDIR [kiln compile options...]
(e.g. --cpu=x86-64-v3 checks the AVX2 kernel on an AVX-512 machine)"""
import os
import subprocess
import sys

import numpy as np

SHAPES = [  # (batch or None, M, K, N)
    (None, 64, 96, 128), (None, 37, 300, 70), (None, 1, 512, 512), (None, 9, 17, 33),
    (None, 7, 1000, 64), (None, 3, 5, 100), (None, 300, 600, 544), (4, 128, 64, 128),
    (3, 5, 33, 40),
    # Few column panels split their rows into groups (workgroups): leftover
    # rows in the last group, one panel of 128 columns, rows just above a
    # group's minimum.
    (None, 130, 512, 128), (None, 128, 64, 512), (None, 50, 64, 32),
]


def tensor(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    failed = 0
    for batch, m, k, n in SHAPES:
        pre = (batch,) if batch else ()
        sa, sb, sc = pre + (m, k), pre + (k, n), pre + (m, n)
        name = "x".join(map(str, pre + (m, k, n)))
        src = os.path.join(work, name + ".mlir")
        with open(src, "w") as f:
            f.write(f'func.func @main(%a: {tensor(sa)} {{kiln.name = "a"}}, '
                    f'%b: {tensor(sb)} {{kiln.name = "b"}}) -> ({tensor(sc)} {{kiln.name = "c"}}) {{\n'
                    f'  %c = kiln.matmul %a, %b : {tensor(sa)}, {tensor(sb)}\n'
                    f'  return %c : {tensor(sc)}\n}}\n')
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        np.save(os.path.join(work, "a.npy"), a)
        np.save(os.path.join(work, "b.npy"), b)
        art, out = os.path.join(work, name + ".kiln"), os.path.join(work, "out")
        subprocess.check_call([kiln, "compile", src, "-o", art] + sys.argv[3:])
        subprocess.check_call([kiln, "run", art, "--input", "a=" + os.path.join(work, "a.npy"),
                               "--input", "b=" + os.path.join(work, "b.npy"), "--output-dir", out])
        got = np.load(os.path.join(out, "c.npy"))
        want = a.astype(np.float64) @ b.astype(np.float64)
        ok = np.allclose(got, want, rtol=1e-4, atol=1e-4 * np.sqrt(k))
        failed += not ok
        print(f"{'ok' if ok else 'MISMATCH'} {name} max abs err {np.abs(got - want).max():.2e}")
    print(f"{len(SHAPES) - failed} of {len(SHAPES)} shapes match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
