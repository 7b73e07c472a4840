#!/usr/bin/env python3
"""Writes an ONNX RMSNorm subgraph the way torch exports it (Pow, ReduceMean,
Add, Sqrt, Div, Mul, Mul) with named nodes, and a look-alike normalized over
the first axis that must not fuse."""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

c = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
nodes = [
    helper.make_node("Pow", ["x", "two"], ["sq"], name="norm/Pow"),
    helper.make_node("ReduceMean", ["sq"], ["mean"], name="norm/ReduceMean", axes=[-1]),
    helper.make_node("Add", ["mean", "eps"], ["var"], name="norm/Add"),
    helper.make_node("Sqrt", ["var"], ["std"], name="norm/Sqrt"),
    helper.make_node("Div", ["one", "std"], ["inv"], name="norm/Div"),
    helper.make_node("Mul", ["x", "inv"], ["n"], name="norm/Mul"),
    helper.make_node("Mul", ["n", "w"], ["y"], name="norm/Mul_1"),
    # Normalized over axis 0: not an RMS norm over the hidden size.
    helper.make_node("Pow", ["x", "two"], ["sq0"], name="odd/Pow"),
    helper.make_node("ReduceMean", ["sq0"], ["mean0"], name="odd/ReduceMean", axes=[0]),
]
graph = helper.make_graph(
    nodes, "rms_norm",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16]),
     helper.make_tensor_value_info("mean0", TensorProto.FLOAT, [1, 16])],
    [c("two", 2.0), c("eps", 1e-6), c("one", 1.0),
     numpy_helper.from_array(np.linspace(0.5, 1.5, 16).astype(np.float32), "w")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
