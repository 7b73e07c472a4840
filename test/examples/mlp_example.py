#!/usr/bin/env python3
"""The shipped end-to-end example: build a small transformer-style MLP block
as ONNX (LayerNorm -> MatMul -> Gelu -> MatMul -> residual Add -> Softmax,
weights as initializers), compile it with `kiln compile`, run it with
`kiln run` and compare with onnxruntime.

Usage: mlp_example.py KILN OUTDIR      (exit 1 if the outputs differ)
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(path, hidden=64, inner=256, seq=16):
    rng = np.random.default_rng(0)
    w = lambda *s: numpy_helper.from_array((rng.standard_normal(s) * 0.1).astype(np.float32))
    inits = [w(hidden), w(hidden), w(hidden, inner), w(inner, hidden)]
    for t, name in zip(inits, ["ln_scale", "ln_bias", "w_up", "w_down"]):
        t.name = name
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln_scale", "ln_bias"], ["n"],
                         axis=-1, epsilon=1e-5, name="norm"),
        helper.make_node("MatMul", ["n", "w_up"], ["u"], name="up"),
        helper.make_node("Gelu", ["u"], ["g"], name="gelu"),
        helper.make_node("MatMul", ["g", "w_down"], ["d"], name="down"),
        helper.make_node("Add", ["x", "d"], ["r"], name="residual"),
        helper.make_node("Softmax", ["r"], ["y"], axis=-1, name="softmax"),
    ]
    graph = helper.make_graph(
        nodes, "mlp_block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", seq, hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", seq, hidden])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10
    onnx.save(model, path)


def main():
    kiln, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    model = os.path.join(out, "mlp_block.onnx")
    build(model)
    x = np.random.default_rng(1).standard_normal((2, 16, 64)).astype(np.float32)
    np.save(os.path.join(out, "x.npy"), x)
    art = os.path.join(out, "mlp_block.kiln")
    subprocess.run([kiln, "compile", model, "--input-shape", "x=2x16x64", "-o", art],
                   check=True)
    subprocess.run([kiln, "run", art, "--input", "x=" + os.path.join(out, "x.npy"),
                    "--output-dir", out], check=True)
    got = np.load(os.path.join(out, "y.npy"))
    import onnxruntime as ort
    ref = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    err = float(np.max(np.abs(got - ref)))
    ok = np.allclose(got, ref, rtol=1e-3, atol=1e-5)
    print(f"mlp_block: kiln vs onnxruntime max abs error {err:.2e} "
          f"({'match' if ok else 'MISMATCH'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
