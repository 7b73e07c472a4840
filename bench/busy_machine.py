#!/usr/bin/env python3
"""The thread pool on a shared machine: the transformer test blocks
(test/models/export_blocks.py: Llama, Llama GQA, MoE, DeepSeek-V3-style
block, and its decode step over a 4095-token latent cache) and a decode
step of a transformers Llama (bench/hf_models.py's, when --hf-workdir holds
it), run by Kiln at 1 and 2 threads and by onnxruntime at 1 and 2 threads,
first on an idle machine, then with a busy-loop process holding CPU 0.

On a busy machine Kiln at 2 threads should cost about what it costs at 1
thread (median and p90 within 1.3x): the caller never waits for a worker
the OS has not scheduled (docs/codegen.md, the runtime).

usage: busy_machine.py [--rounds 3] [--iterations 100] [--workdir DIR]
                       [--only NAME,...]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import busy_loop, kiln_times, ort_session, ort_times, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = [("llama_block", "Llama block (seq 128)"),
          ("llama_gqa_block", "Llama GQA block (seq 128)"),
          ("moe_block", "MoE block (top-2 of 8, seq 128)"),
          ("deepseek_block", "DeepSeek-V3-style block (seq 128)"),
          ("deepseek_decode", "DeepSeek-V3 decode step (4095 cached)")]
EXTRA_INPUTS = {"deepseek_decode": ["past_kv", "past_pe"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-busy-")
    os.makedirs(work, exist_ok=True)
    export = os.path.join(ROOT, "test", "models", "export_blocks.py")
    for only, file in (("llama", "llama_block"), ("gqa", "llama_gqa_block"), ("moe", "moe_block"),
                       ("mla", "deepseek_block")):
        if not os.path.exists(os.path.join(work, file + ".onnx")):
            subprocess.check_call([sys.executable, export, work, "--only", only],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(work, "deepseek_decode.onnx")):
        subprocess.check_call([sys.executable, export, work, "--only", "decode", "--seq", "4096"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    models = [m for m in MODELS if not args.only or m[0] in args.only.split(",")]
    prepared = []
    for name, what in models:
        onnx_path = os.path.join(work, name + ".onnx")
        art = os.path.join(work, name + ".kiln")
        if not os.path.exists(art):
            subprocess.check_call([args.kiln, "compile", onnx_path, "-o", art])
        files = {"x": os.path.join(work, name + ".input.npy")}
        files.update({n: os.path.join(work, f"{name}.{n}.npy") for n in EXTRA_INPUTS.get(name, [])})
        feeds = {n: np.load(f) for n, f in files.items()}
        inputs = [a for n, f in files.items() for a in ("--input", f"{n}={f}")]
        prepared.append((what, onnx_path, art, inputs, feeds))

    def measure():
        runs = {}
        for _ in range(args.rounds):
            for what, onnx_path, art, inputs, feeds in prepared:
                for t in (1, 2):
                    runs.setdefault((what, "kiln", t), []).append(
                        kiln_times(args.kiln, art, inputs, t, args.iterations))
                    runs.setdefault((what, "ort", t), []).append(
                        ort_times(ort_session(onnx_path, t), feeds, args.iterations))
        return {k: min(v) for k, v in runs.items()}  # the round with the best median

    idle = measure()
    spinner = busy_loop()
    try:
        time.sleep(0.5)
        busy = measure()
    finally:
        spinner.kill()
    rows = []
    for what, *_ in prepared:
        for label, r in (("idle", idle), ("CPU 0 busy", busy)):
            k1, k2 = r[(what, "kiln", 1)], r[(what, "kiln", 2)]
            o1, o2 = r[(what, "ort", 1)], r[(what, "ort", 2)]
            rows.append([what, label, f"{k1[0]:.3f} / {k1[1]:.3f}", f"{k2[0]:.3f} / {k2[1]:.3f}",
                         f"{k2[0] / k1[0]:.2f} / {k2[1] / k1[1]:.2f}",
                         f"{o1[0]:.3f} / {o1[1]:.3f}", f"{o2[0]:.3f} / {o2[1]:.3f}",
                         f"{k2[0] / o2[0]:.2f}"])
    print(f"best median of {args.rounds} rounds x {args.iterations} runs (median / p90, ms)")
    table(rows, ["model", "machine", "kiln 1 thread", "kiln 2 threads", "kiln 2t/1t",
                 "ort 1 thread", "ort 2 threads", "kiln/ort at 2t"])


if __name__ == "__main__":
    main()
