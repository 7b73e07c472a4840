#!/usr/bin/env python3
"""Benchmark 1 of issue 5: f32 matmul 1024^3 and 4096^3 compiled by Kiln,
against the machine's measured FMA peak (bench/peak_flops.c) and OpenBLAS
(bench/matmul_openblas.c, Debian libopenblas) on the same thread count.

usage: bench/matmul.py [--kiln build/bin/kiln] [--threads N] [--sizes 1024,4096]
Builds the two C programs with the system C compiler into a temp dir.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
OPENBLAS_INCLUDE = "/usr/include/x86_64-linux-gnu/openblas-pthread"


def compiler():
    for cc in ("clang-22", "clang", "cc", "gcc"):
        if shutil.which(cc):
            return cc
    sys.exit("matmul.py: no C compiler found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--sizes", default="1024,4096")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kiln-matmul-")
    cc = compiler()
    peak, blas = os.path.join(work, "peak_flops"), os.path.join(work, "matmul_openblas")
    subprocess.check_call([cc, "-O2", "-pthread", os.path.join(BENCH, "peak_flops.c"), "-o", peak])
    subprocess.check_call([cc, "-O2", "-I" + OPENBLAS_INCLUDE,
                           os.path.join(BENCH, "matmul_openblas.c"), "-lopenblas", "-o", blas])
    peaks = [json.loads(l) for l in subprocess.check_output([peak, str(args.threads)]).decode().split("\n") if l]
    peak_gflops = [p for p in peaks if p["threads"] == args.threads][-1]["gflops"]
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    rows = []
    for n in map(int, args.sizes.split(",")):
        t = f"tensor<{n}x{n}xf32>"
        src = os.path.join(work, f"mm{n}.mlir")
        with open(src, "w") as f:
            f.write(f'func.func @main(%a: {t} {{kiln.name = "a"}}, %b: {t} {{kiln.name = "b"}})'
                    f' -> ({t} {{kiln.name = "c"}}) {{\n'
                    f"  %c = kiln.matmul %a, %b : {t}, {t}\n  return %c : {t}\n}}\n")
        art = os.path.join(work, f"mm{n}.kiln")
        subprocess.check_call([args.kiln, "compile", src, "-o", art])
        iters = "10" if n <= 2048 else "3"
        kiln = json.loads(subprocess.check_output(
            [args.kiln, "bench", art, "--json", "--iterations", iters, "--warmup", "1"], env=env))
        ob = json.loads(subprocess.check_output([blas, str(n), iters], env=env))
        rows.append([f"{n}^3", f"{kiln['gflops']:.1f}", f"{ob['gflops']:.1f}", f"{peak_gflops:.1f}",
                     f"{kiln['gflops'] / peak_gflops:.0%}", f"{ob['gflops'] / peak_gflops:.0%}",
                     f"{kiln['gflops'] / ob['gflops']:.2f}"])
    print(f"threads: {args.threads}")
    table(rows, ["f32 matmul", "kiln GFLOP/s", "OpenBLAS GFLOP/s", "FMA peak",
                 "kiln/peak", "OpenBLAS/peak", "kiln/OpenBLAS"])


if __name__ == "__main__":
    main()
