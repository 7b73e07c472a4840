#!/usr/bin/env python3
"""Writes an ONNX model y = Reshape(x, shape) whose target shape is a graph
input (x: float[2, 3, 2], shape: int64[2])."""
import sys

from onnx import TensorProto, helper, save

graph = helper.make_graph(
    [helper.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 2]),
     helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
