#!/usr/bin/env python3
"""Does a routed MoE layer cost what its routing says? The dense-masked
Mixtral-style layer (test/models/export_blocks.py: hidden 512, 8 SwiGLU
experts of 1024, seq 128) exported routed top-2 and routed to all 8, each
run by Kiln fused (kiln.moe: experts only on their routed tokens), Kiln
unfused (--no-fusion: every expert on every token, as the graph says) and
onnxruntime, on the same threads.

The figure of merit is Kiln fused top-2 / top-8 (issue goal <= 0.35; the
FLOPs alone give 0.25, and every expert's weights are read once either way).
Runs are interleaved over --rounds and the median of the rounds' medians is
reported, because this machine is shared and noisy.

usage: bench/moe_routing.py [--kiln build/bin/kiln] [--threads N]
                            [--iterations 20] [--rounds 3] [--workdir DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import run_measured, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kiln_median(kiln, artifact, x, env, iterations):
    _, _, out = run_measured([kiln, "bench", artifact, f"--input=x={x}", "--warmup", "3",
                              "--iterations", str(iterations), "--json"], env=env)
    return json.loads(out)["median_ms"]


def ort_median(session, x, iterations):
    feeds = {"x": x}
    for _ in range(3):
        session.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-moe-")
    export = os.path.join(ROOT, "test", "models", "export_blocks.py")
    for k in (2, 8):
        subprocess.check_call([sys.executable, export, work, "--only", "moe", "--moe-top-k",
                               str(k)], stdout=subprocess.DEVNULL)
    models = {2: os.path.join(work, "moe_block.onnx"), 8: os.path.join(work, "moe_block_top8.onnx")}
    x_path = os.path.join(work, "moe_block.input.npy")
    x = np.load(x_path)
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads))
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads

    variants = {}  # (name, k) -> callable returning ms
    for k, model in models.items():
        for name, flags in (("kiln fused", []), ("kiln --no-fusion", ["--no-fusion"])):
            artifact = os.path.join(work, f"top{k}{'-unfused' if flags else ''}.kiln")
            subprocess.check_call([args.kiln, "compile", model, "-o", artifact, *flags])
            out_dir = os.path.join(work, "out-" + os.path.basename(artifact))
            subprocess.check_call([args.kiln, "run", artifact, f"--input=x={x_path}",
                                   "--output-dir", out_dir], env=env)
            want = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"]).run(
                None, {"x": x})[0]
            err = np.abs(np.load(os.path.join(out_dir, "y.npy")) - want).max()
            if err > 1e-4:
                sys.exit(f"{name} top-{k}: differs from onnxruntime by {err}")
            variants[(name, k)] = (lambda a=artifact: kiln_median(args.kiln, a, x_path, env,
                                                                  args.iterations))
        session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        variants[("onnxruntime", k)] = (lambda s=session: ort_median(s, x, args.iterations))

    samples = {key: [] for key in variants}
    for _ in range(args.rounds):
        for key, run in variants.items():
            samples[key].append(run())
    ms = {key: statistics.median(v) for key, v in samples.items()}

    print(f"dense-masked MoE, hidden 512, 8 experts of 1024, seq 128; threads: {args.threads}; "
          f"median of {args.rounds} rounds x {args.iterations} iterations")
    rows = []
    for name in ("kiln fused", "kiln --no-fusion", "onnxruntime"):
        top2, top8 = ms[(name, 2)], ms[(name, 8)]
        rows.append([name, f"{top2:.2f}", f"{top8:.2f}", f"{top2 / top8:.3f}",
                     f"{top2 / ms[('onnxruntime', 2)]:.2f}"])
    table(rows, ["", "top-2 ms", "top-8 ms", "top-2 / top-8", "top-2 vs ort"])


if __name__ == "__main__":
    main()
