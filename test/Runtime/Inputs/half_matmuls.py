"""Test helper: `half_matmuls.py DIR` writes f16 and bf16 MatMul models
(decode-shaped GEMV, odd sizes, a transposed weight, a batch, a residual
add) with their inputs and float64 references of the same half inputs:
NAME.onnx, NAME.x.npy, NAME.want.npy (bf16 inputs are stored as float32
.npy holding bf16-exact values; the model casts them)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = [  # name, x shape, w shape, transpose w, residual, dtype
    ("gemv", (1, 1024), (1024, 1000), False, False, "f16"),
    ("odd", (7, 1000), (1000, 1030), False, False, "f16"),
    ("square", (64, 256), (256, 256), False, False, "f16"),
    ("wt", (5, 96), (80, 96), True, False, "f16"),
    ("batch", (2, 5, 64), (64, 48), False, False, "f16"),
    ("residual", (9, 128), (128, 128), False, True, "f16"),
    ("bf16", (3, 512), (512, 200), False, False, "bf16"),
]


def bf16_round(a):
    b = np.asarray(a, np.float32).view(np.uint32)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000  # round to nearest even
    return b.view(np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, xs, ws, transpose, residual, dtype in CASES:
        rs = np.random.RandomState(len(name))
        x = rs.randn(*xs) * 0.5
        w = rs.randn(*ws) * 0.05
        if dtype == "f16":
            x, w = x.astype(np.float16), w.astype(np.float16)
            elem = TensorProto.FLOAT16
            w_init = numpy_helper.from_array(w, "w")
            x_in, nodes = "x", []
        else:
            x, w = bf16_round(x), bf16_round(w)
            elem = TensorProto.BFLOAT16
            w_init = numpy_helper.from_array(w, "w32")
            nodes = [helper.make_node("Cast", ["w32"], ["w"], to=TensorProto.BFLOAT16),
                     helper.make_node("Cast", ["x"], ["xh"], to=TensorProto.BFLOAT16)]
            x_in = "xh"
        wt = w.astype(np.float64).T if transpose else w.astype(np.float64)
        want = x.astype(np.float64) @ wt
        if transpose:
            nodes.append(helper.make_node("Transpose", ["w"], ["wk"], perm=[1, 0]))
            nodes.append(helper.make_node("MatMul", [x_in, "wk"], ["p"]))
        else:
            nodes.append(helper.make_node("MatMul", [x_in, "w"], ["p"]))
        if residual:
            nodes.append(helper.make_node("Add", ["p", x_in], ["y"]))
            want = want + x.astype(np.float64)
        else:
            nodes[-1].output[0] = "y"
        out_shape = list(want.shape)
        in_elem = elem if dtype == "f16" else TensorProto.FLOAT
        graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", in_elem, list(xs))],
                                  [helper.make_tensor_value_info("y", elem, out_shape)], [w_init])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, os.path.join(out, name + ".onnx"))
        np.save(os.path.join(out, name + ".x.npy"), x)
        np.save(os.path.join(out, name + ".want.npy"), want)


if __name__ == "__main__":
    main()
