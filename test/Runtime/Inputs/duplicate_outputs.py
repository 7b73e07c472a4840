#!/usr/bin/env python3
"""Writes models whose graph outputs repeat one value: Relu(x) listed twice
(relu_twice.onnx), Relu(x) and an Identity of it (relu_identity.onnx), and
the input itself twice next to Relu(x) (input_twice.onnx); x.npy is their
input. usage: duplicate_outputs.py OUTDIR"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
F = TensorProto.FLOAT


def save(name, nodes, outputs):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [2, 3])],
                          [helper.make_tensor_value_info(o, F, [2, 3]) for o in outputs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


relu = helper.make_node("Relu", ["x"], ["y"], name="relu")
save("relu_twice", [relu], ["y", "y"])
save("relu_identity", [relu, helper.make_node("Identity", ["y"], ["z"], name="id")], ["y", "z"])
save("input_twice", [relu, helper.make_node("Identity", ["x"], ["a"], name="id")], ["a", "y", "a"])
np.save(os.path.join(out, "x.npy"), np.array([[-1, 2, -3], [4, -5, 6]], np.float32))
