#!/usr/bin/env python3
"""One artifact for every sequence length: dynamic dims vs static, vs onnxruntime.

Builds a transformer MLP block as exporters write it (RMSNorm with
Pow/ReduceMean/Sqrt/Div, SwiGLU MatMuls hidden -> inter -> hidden, residual
Add) with x [batch, seq, hidden] left dynamic (ONNX dim_param), then:

- compiles it once with the dims dynamic, and once per length with them
  pinned (`--dim batch=1 --dim seq=N`);
- times `kiln bench` of the dynamic artifact (`--dim seq=N`) and of the
  static one, alternating, for `--rounds` rounds, and onnxruntime on the
  same ONNX file, at each length in `--seqs`;
- checks the dynamic artifact's output against onnxruntime at each length.

Prints median ms per round's best and the range over rounds, and the ratio
dynamic / static (the issue's goal: <= 1.05 at seq 128).

usage: bench/dynamic_shapes.py [--kiln build/bin/kiln] [--hidden 512]
                               [--inter 1376] [--seqs 1,7,128,1000]
                               [--threads 2] [--rounds 3] [--iterations 20]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import kiln_times, ort_session, ort_times, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_model(path, hidden, inter):
    rng = np.random.default_rng(0)
    w = lambda name, *shape: nh.from_array(
        (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32), name)
    inits = [w("gate", hidden, inter), w("up", hidden, inter), w("down", inter, hidden),
             nh.from_array(np.ones(hidden, np.float32), "gamma"),
             nh.from_array(np.array(2.0, np.float32), "two"),
             nh.from_array(np.array(1e-6, np.float32), "eps"),
             nh.from_array(np.array([-1], np.int64), "axes")]
    nodes = [
        h.make_node("Pow", ["x", "two"], ["sq"]),
        h.make_node("ReduceMean", ["sq", "axes"], ["ms"], keepdims=1),
        h.make_node("Add", ["ms", "eps"], ["mse"]),
        h.make_node("Sqrt", ["mse"], ["rms"]),
        h.make_node("Div", ["x", "rms"], ["xn"]),
        h.make_node("Mul", ["xn", "gamma"], ["n"]),
        h.make_node("MatMul", ["n", "gate"], ["g"]),
        h.make_node("Sigmoid", ["g"], ["gs"]),
        h.make_node("Mul", ["g", "gs"], ["silu"]),
        h.make_node("MatMul", ["n", "up"], ["u"]),
        h.make_node("Mul", ["silu", "u"], ["gu"]),
        h.make_node("MatMul", ["gu", "down"], ["d"]),
        h.make_node("Add", ["x", "d"], ["y"]),
    ]
    g = h.make_graph(nodes, "mlp_block",
                     [h.make_tensor_value_info("x", T.FLOAT, ["batch", "seq", hidden])],
                     [h.make_tensor_value_info("y", T.FLOAT, ["batch", "seq", hidden])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 18)])
    m.ir_version = 8
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--inter", type=int, default=1376)
    ap.add_argument("--seqs", default="1,7,128,1000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    seqs = [int(s) for s in args.seqs.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "block.onnx")
        build_model(model, args.hidden, args.inter)
        dynamic = os.path.join(tmp, "dynamic.kiln")
        subprocess.run([args.kiln, "compile", model, "-o", dynamic], check=True)
        sess = ort_session(model, args.threads)
        rows = []
        for seq in seqs:
            static = os.path.join(tmp, f"static{seq}.kiln")
            subprocess.run([args.kiln, "compile", model, "-o", static, "--dim", "batch=1",
                            "--dim", f"seq={seq}"], check=True)
            x = np.random.default_rng(seq).standard_normal((1, seq, args.hidden)).astype(np.float32)
            xin = os.path.join(tmp, "x.npy")
            np.save(xin, x)
            out = os.path.join(tmp, "out")
            subprocess.run([args.kiln, "run", dynamic, "--input", f"x={xin}", "--output-dir", out],
                           check=True)
            ref = sess.run(None, {"x": x})[0]
            err = float(np.abs(np.load(os.path.join(out, "y.npy")) - ref).max())
            dyn, sta, ort = [], [], []
            for _ in range(args.rounds):  # alternate: the machine is shared
                dyn.append(kiln_times(args.kiln, dynamic, ["--input", f"x={xin}"], args.threads,
                                      args.iterations)[0])
                sta.append(kiln_times(args.kiln, static, ["--input", f"x={xin}"], args.threads,
                                      args.iterations)[0])
                ort.append(ort_times(sess, {"x": x}, args.iterations)[0])
            span = lambda v: f"{min(v):.3f} ({min(v):.3f}-{max(v):.3f})"
            rows.append([seq, span(dyn), span(sta), span(ort), f"{min(dyn) / min(sta):.2f}",
                         f"{min(dyn) / min(ort):.2f}", f"{err:.1e}"])
        print(f"MLP block hidden {args.hidden}, inter {args.inter}, batch 1, "
              f"{args.threads} threads, best of {args.rounds} rounds (range)")
        table(rows, ["seq", "dynamic ms", "static ms", "onnxruntime ms", "dyn/static",
                     "dyn/ort", "max err"])


if __name__ == "__main__":
    main()
