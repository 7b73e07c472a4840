"""Test helper: `quantized_matmuls.py DIR` writes MatMul models whose
weights `kiln compile --quantize-weights` block-quantizes, with inputs and
two references: NAME.want.npy, the product with the weight quantized by a
NumPy implementation of kiln.block_quantize (what Kiln must match; FP8
rounding by ml_dtypes), and NAME.f32.npy, the float64 product with the
original weight (the accuracy the quantization costs). NAME.json gives the
--quantize-weights value and the group size."""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = [  # name, x shape, w shape [K, N] as the product reads it, bits, group, weight form
    ("gemv8", (1, 1024), (1024, 1000), 8, 128, "plain"),
    ("gemv4", (1, 1024), (1024, 1000), 4, 128, "plain"),
    ("rows4", (16, 256), (256, 288), 4, 64, "plain"),      # packed B panels (M > MR)
    ("rows8", (13, 512), (512, 96), 8, 128, "plain"),
    ("oddk4", (5, 999), (999, 64), 4, 128, "plain"),       # odd K: a half-used last byte row
    ("tailk8", (3, 1000), (1000, 70), 8, 128, "plain"),    # K past the last full group
    ("batch8", (2, 5, 64), (64, 128), 8, 32, "plain"),
    ("wt4", (4, 96), (96, 200), 4, 32, "transposed"),      # x @ W.T with W [N, K]
    ("f16w4", (2, 256), (256, 64), 4, 128, "f16"),         # an f16 weight widened
    ("zeros8", (3, 128), (128, 64), 8, 128, "zero-column"),
    ("big4", (2, 1024), (1024, 64), 4, 512, "plain"),     # groups deeper than a K block
    ("godd4", (1, 300), (300, 40), 4, 75, "plain"),       # odd groups: nibble pairs straddle them
    ("fp8gemv", (1, 512), (512, 384), "fp8", 128, "plain"),  # FP8 e4m3, 128 x 128 block scales
    ("fp8rows", (12, 256), (256, 200), "fp8", 128, "plain"),  # packed panels, partial blocks
    ("fp8g32", (3, 96), (96, 80), "fp8", 32, "transposed"),
]


def block_quantize(w, bits, group):
    """kiln.block_quantize's codes, returned as the f32 values they stand for."""
    w = np.asarray(w, np.float32)
    qmax = np.float32(7 if bits == 4 else 127)
    out = np.empty_like(w)
    for g0 in range(0, w.shape[0], group):
        blk = w[g0:g0 + group]
        s = (np.abs(blk).max(axis=0) / qmax).astype(np.float32)
        safe = np.where(s == 0, np.float32(1), s)
        q = np.clip(np.rint(blk / safe), -qmax, qmax).astype(np.float32)
        q[:, s == 0] = 0
        out[g0:g0 + group] = q * s
    return out


def block_quantize_fp8(w, group):
    """kiln.block_quantize float8: e4m3 codes, one scale per group x group block."""
    import ml_dtypes
    w = np.asarray(w, np.float32)
    out = np.empty_like(w)
    for r in range(0, w.shape[0], group):
        for c in range(0, w.shape[1], group):
            blk = w[r:r + group, c:c + group]
            s = np.float32(np.abs(blk).max() / np.float32(448))
            if s == 0:
                out[r:r + group, c:c + group] = 0
                continue
            q = np.clip(blk / s, -448, 448).astype(ml_dtypes.float8_e4m3fn).astype(np.float32)
            out[r:r + group, c:c + group] = q * s
    return out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, xs, (k, n), bits, group, form in CASES:
        rs = np.random.RandomState(len(name) + (3 if bits == "fp8" else bits))
        x = (rs.randn(*xs) * 0.5).astype(np.float32)
        w = (rs.randn(k, n) * 0.05).astype(np.float32)
        if form == "zero-column":
            w[:, 5] = 0
        nodes = []
        if form == "transposed":
            init = numpy_helper.from_array(np.ascontiguousarray(w.T), "w")
            nodes.append(helper.make_node("Transpose", ["w"], ["wk"], perm=[1, 0]))
            rhs = "wk"
        elif form == "f16":
            w = w.astype(np.float16).astype(np.float32)
            init = numpy_helper.from_array(w.astype(np.float16), "w")
            nodes.append(helper.make_node("Cast", ["w"], ["wk"], to=TensorProto.FLOAT))
            rhs = "wk"
        else:
            init = numpy_helper.from_array(w, "w")
            rhs = "w"
        nodes.append(helper.make_node("MatMul", ["x", rhs], ["y"]))
        deq = block_quantize_fp8(w, group) if bits == "fp8" else block_quantize(w, bits, group)
        want = x.astype(np.float64) @ deq.astype(np.float64)
        exact = x.astype(np.float64) @ w.astype(np.float64)
        graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xs))],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(want.shape))],
                                  [init])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, os.path.join(out, name + ".onnx"))
        np.save(os.path.join(out, name + ".x.npy"), x)
        np.save(os.path.join(out, name + ".want.npy"), want)
        np.save(os.path.join(out, name + ".f32.npy"), exact)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"flag": bits if bits == "fp8" else f"int{bits}", "group": group}, f)


if __name__ == "__main__":
    main()
