#!/usr/bin/env python3
"""Causal attention at long sequence: Kiln's fused kernel vs onnxruntime.

Builds the graph an exporter writes for causal scaled dot-product attention
(MatMul(Q, Transpose(K)), Mul by the scale, Add a causal mask built in the
graph as Trilu(upper, k=1) of a -inf fill, Softmax, MatMul V) with the
onnx helper at opset 17, for [1, heads, seq, head_dim] inputs. Kiln raises
it to kiln.attention {causal}; the unfused path (kiln compile --no-fusion)
and onnxruntime materialize the seq x seq scores per head.

Reports, in one run on the same threads: latency (median), peak RSS of the
process that runs the model (`kiln run`, a Python process running
onnxruntime), and Kiln's compile time. Numerics are checked against
onnxruntime.

usage: bench/attention.py [--kiln build/bin/kiln] [--seq 4096] [--heads 8]
                          [--head-dim 32] [--threads N] [--iterations 10]
                          [--skip-unfused]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import run_measured, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ORT_RUNNER = r"""
import sys, time, numpy as np, onnxruntime as ort
model, q, k, v, threads, iterations, out = sys.argv[1:8]
so = ort.SessionOptions()
so.intra_op_num_threads = int(threads)
s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
feeds = {"q": np.load(q), "k": np.load(k), "v": np.load(v)}
for _ in range(2):
    r = s.run(None, feeds)
times = []
for _ in range(int(iterations)):
    t = time.perf_counter(); r = s.run(None, feeds); times.append(time.perf_counter() - t)
np.save(out, r[0])
print(sorted(times)[len(times) // 2] * 1e3)
"""


def build_model(path, heads, seq, dim):
    shape = [1, heads, seq, dim]
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
        helper.make_node("ConstantOfShape", ["mask_shape"], ["fill"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [-np.inf])),
        helper.make_node("Trilu", ["fill", "one"], ["mask"], upper=1),
        helper.make_node("Add", ["scaled", "mask"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["out"]),
    ]
    inits = [
        helper.make_tensor("scale", TensorProto.FLOAT, [], [1.0 / np.sqrt(dim)]),
        helper.make_tensor("mask_shape", TensorProto.INT64, [2], [seq, seq]),
        helper.make_tensor("one", TensorProto.INT64, [], [1]),
    ]
    graph = helper.make_graph(
        nodes, "causal_attention",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in "qkv"],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what opset-17 exporters write; onnxruntime reads it
    onnx.checker.check_model(model)
    onnx.save(model, path)


def kiln_run(kiln, artifact, inputs, out_dir, env, iterations):
    """Peak RSS of one `kiln run`, then the median of `kiln bench`."""
    args = [f"--input={n}={p}" for n, p in inputs.items()]
    _, rss, _ = run_measured([kiln, "run", artifact, *args, "--output-dir", out_dir], env=env)
    _, _, out = run_measured([kiln, "bench", artifact, *args, "--warmup", "2", "--iterations",
                              str(iterations), "--json"], env=env)
    import json
    return json.loads(out)["median_ms"], rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--head-dim", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--skip-unfused", action="store_true")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-attention-")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "attention.onnx")
    build_model(model, args.heads, args.seq, args.head_dim)
    rng = np.random.default_rng(0)
    inputs = {}
    for n in "qkv":
        inputs[n] = os.path.join(work, n + ".npy")
        np.save(inputs[n], rng.standard_normal((1, args.heads, args.seq, args.head_dim),
                                               dtype=np.float32))
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads))

    ort_out = os.path.join(work, "ort.npy")
    _, ort_rss, ort_ms = run_measured([sys.executable, "-c", ORT_RUNNER, model, inputs["q"],
                                       inputs["k"], inputs["v"], str(args.threads),
                                       str(args.iterations), ort_out])
    ort_ms = float(ort_ms)
    want = np.load(ort_out)

    rows = []
    variants = [("kiln (fused)", [])]
    if not args.skip_unfused:
        variants.append(("kiln --no-fusion", ["--no-fusion"]))
    for name, flags in variants:
        artifact = os.path.join(work, name.split()[-1].strip("()-") + ".kiln")
        compile_s, compile_rss, _ = run_measured(
            [args.kiln, "compile", model, "-o", artifact, *flags])
        out_dir = os.path.join(work, "out-" + os.path.basename(artifact))
        ms, rss = kiln_run(args.kiln, artifact, inputs, out_dir, env, args.iterations)
        got = np.load(os.path.join(out_dir, "out.npy"))
        rows.append([name, f"{ms:.1f}", f"{rss:.0f}", f"{ms / ort_ms:.2f}", f"{compile_s:.2f}",
                     f"{np.abs(got - want).max():.1e}"])
    rows.append(["onnxruntime", f"{ort_ms:.1f}", f"{ort_rss:.0f}", "1.00", "-", "-"])
    print(f"causal attention: batch 1, {args.heads} heads, seq {args.seq}, head dim "
          f"{args.head_dim}; threads: {args.threads}")
    print(f"scores per head: {args.seq * args.seq * 4 / 2**20:.0f} MiB, all heads "
          f"{args.heads * args.seq * args.seq * 4 / 2**20:.0f} MiB")
    table(rows, ["", "ms", "peak RSS MiB", "time / ort", "compile s", "max |diff| vs ort"])


if __name__ == "__main__":
    main()
