"""Test helper: `dynamic_models.py DIR` writes ONNX models whose dims are
left dynamic (named as exporters name them) for test/Runtime/dynamic-dims.test:

- mlp.onnx: x [batch, seq, 64] -> MatMul 64x40 -> Add -> Relu -> Softmax ->
  MatMul 40x36 (36 columns: a micro-tile remainder) -> y [batch, seq, 36].
- masked.onnx: x [batch, seq, 16] and mask [batch, seq] (one named dim,
  shared) -> x * Unsqueeze(mask) summed over the last axis.
- unnamed.onnx: x [?, 8] with an unnamed dynamic dim -> Tanh.
- related.onnx: dims the graph relates under different names, checked per
  run: a [n, 16] + b [m, 16] (n = m, or either 1: broadcast), then
  MatMul with c [k, 4] (k must be 16), and Reshape of d [r] to [2, 8] (r
  must be 16).
- routing.onnx: a [n, m, 6] -> TopK(k=2) of the last axis, Flatten(axis=1)
  (both sides dynamic: [n, m * 6]), ScatterND of two rows into b [r, 6],
  Expand of c [n, 1] by [1, 6] (the result type is the target: [n, 6]),
  Tile of c by [2, 3] ([2n, 3]: constant repeats over a dynamic dim).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(0)


def save(graph, name):
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8  # what onnxruntime reads
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, name))


w1 = nh.from_array((rng.standard_normal((64, 40)) / 8).astype(np.float32), "w1")
b1 = nh.from_array(rng.standard_normal(40).astype(np.float32), "b1")
w2 = nh.from_array((rng.standard_normal((40, 36)) / 6).astype(np.float32), "w2")
save(h.make_graph(
    [h.make_node("MatMul", ["x", "w1"], ["m"]), h.make_node("Add", ["m", "b1"], ["a"]),
     h.make_node("Relu", ["a"], ["r"]), h.make_node("Softmax", ["r"], ["s"], axis=-1),
     h.make_node("MatMul", ["s", "w2"], ["y"])], "mlp",
    [h.make_tensor_value_info("x", T.FLOAT, ["batch", "seq", 64])],
    [h.make_tensor_value_info("y", T.FLOAT, ["batch", "seq", 36])], [w1, b1, w2]), "mlp.onnx")

axes = nh.from_array(np.array([-1], np.int64), "axes")
save(h.make_graph(
    [h.make_node("Unsqueeze", ["mask", "axes"], ["m3"]), h.make_node("Mul", ["x", "m3"], ["p"]),
     h.make_node("ReduceSum", ["p", "axes"], ["y"], keepdims=0)], "masked",
    [h.make_tensor_value_info("x", T.FLOAT, ["batch", "seq", 16]),
     h.make_tensor_value_info("mask", T.FLOAT, ["batch", "seq"])],
    [h.make_tensor_value_info("y", T.FLOAT, ["batch", "seq"])], [axes]), "masked.onnx")

save(h.make_graph(
    [h.make_node("Tanh", ["x"], ["y"])], "unnamed",
    [h.make_tensor_value_info("x", T.FLOAT, [None, 8])],
    [h.make_tensor_value_info("y", T.FLOAT, [None, 8])]), "unnamed.onnx")

save(h.make_graph(
    [h.make_node("Add", ["a", "b"], ["s"]), h.make_node("MatMul", ["s", "c"], ["y"]),
     h.make_node("Reshape", ["d", "shape"], ["z"])], "related",
    [h.make_tensor_value_info("a", T.FLOAT, ["n", 16]),
     h.make_tensor_value_info("b", T.FLOAT, ["m", 16]),
     h.make_tensor_value_info("c", T.FLOAT, ["k", 4]),
     h.make_tensor_value_info("d", T.FLOAT, ["r"])],
    [h.make_tensor_value_info("y", T.FLOAT, [None, 4]),
     h.make_tensor_value_info("z", T.FLOAT, [2, 8])],
    [nh.from_array(np.array([2, 8], np.int64), "shape")]), "related.onnx")

save(h.make_graph(
    [h.make_node("TopK", ["a", "k"], ["tv", "ti"], axis=-1),
     h.make_node("Flatten", ["a"], ["flat"], axis=1),
     h.make_node("ScatterND", ["b", "rows", "updates"], ["scattered"]),
     h.make_node("Expand", ["c", "target"], ["expanded"]),
     h.make_node("Tile", ["c", "repeats"], ["tiled"])], "routing",
    [h.make_tensor_value_info("a", T.FLOAT, ["n", "m", 6]),
     h.make_tensor_value_info("b", T.FLOAT, ["r", 6]),
     h.make_tensor_value_info("c", T.FLOAT, ["n", 1])],
    [h.make_tensor_value_info("tv", T.FLOAT, ["n", "m", 2]),
     h.make_tensor_value_info("ti", T.INT64, ["n", "m", 2]),
     h.make_tensor_value_info("flat", T.FLOAT, ["n", None]),
     h.make_tensor_value_info("scattered", T.FLOAT, ["r", 6]),
     h.make_tensor_value_info("expanded", T.FLOAT, ["n", 6]),
     h.make_tensor_value_info("tiled", T.FLOAT, [None, 3])],
    [nh.from_array(np.array([2], np.int64), "k"),
     nh.from_array(np.array([[2], [0]], np.int64), "rows"),
     nh.from_array(rng.standard_normal((2, 6)).astype(np.float32), "updates"),
     nh.from_array(np.array([1, 6], np.int64), "target"),
     nh.from_array(np.array([2, 3], np.int64), "repeats")]), "routing.onnx")
