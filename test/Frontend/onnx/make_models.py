#!/usr/bin/env python3
"""Writes the small ONNX models the frontend lit tests import.

Usage: make_models.py OUTDIR [NAME...]   (default: all models)
Needs the `onnx` package (requirements.txt). Every model is built with
onnx.helper so tests do not depend on an exporter's version.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=(), opset=17, name="g", domains=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    imports = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=imports)
    m.ir_version = 8 if opset <= 17 else 10
    return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def add_bcast():
    return model([helper.make_node("Add", ["x", "y"], ["z"], name="add_0")],
                 [vi("x", ["batch", 4]), vi("y", [4])], [vi("z", ["batch", 4])])


def named_dims():
    """Two inputs sharing named dims, as Hugging Face exports write
    input_ids and attention_mask: y = x * mask[..., None] + bias."""
    ax = numpy_helper.from_array(np.array([2], np.int64), "ax")
    bias = numpy_helper.from_array(np.array([0.5, -1, 2, 0.25], np.float32), "bias")
    nodes = [helper.make_node("Unsqueeze", ["mask", "ax"], ["m3"]),
             helper.make_node("Mul", ["x", "m3"], ["xm"]),
             helper.make_node("Add", ["xm", "bias"], ["y"])]
    return model(nodes, [vi("x", ["batch", "seq", 4]), vi("mask", ["batch", "seq"])],
                 [vi("y", ["batch", "seq", 4])], [ax, bias])


def scalar_input():
    """y = x * s with s a declared scalar (a shape of no dims)."""
    return model([helper.make_node("Mul", ["x", "s"], ["y"])],
                 [vi("x", ["n"]), vi("s", [])], [vi("y", ["n"])])


def unsqueeze_70():
    """Unsqueeze a [2] by 70 axes (a rank-71 result); 70 axes are past the
    importer's inline-constant limit, so they arrive as run-time axes."""
    ax = numpy_helper.from_array(np.arange(70, dtype=np.int64), "ax")
    return model([helper.make_node("Unsqueeze", ["x", "ax"], ["y"])], [vi("x", [2])],
                 [helper.make_tensor_value_info("y", F, None)], [ax])


def unsqueeze_rank_71():
    """Unsqueeze a rank-31 input by 40 constant axes: a rank-71 result."""
    ax = numpy_helper.from_array(np.arange(40, dtype=np.int64), "ax")
    return model([helper.make_node("Unsqueeze", ["x", "ax"], ["y"])], [vi("x", [1] * 31)],
                 [helper.make_tensor_value_info("y", F, None)], [ax])


def range_huge():
    """A constant Range(0, 1e15, 1): 10^15 elements."""
    c = [numpy_helper.from_array(np.array(v, np.float32), name)
         for name, v in (("s", 0.0), ("l", 1e15), ("d", 1.0))]
    return model([helper.make_node("Range", ["s", "l", "d"], ["y"])], [],
                 [helper.make_tensor_value_info("y", F, None)], c)


def legacy_broadcast_axis():
    """Opset-6 Add with broadcast=1 and axis -2^62."""
    node = helper.make_node("Add", ["a", "b"], ["y"], broadcast=1, axis=-(1 << 62))
    return model([node], [vi("a", [2, 3]), vi("b", [3])], [vi("y", [2, 3])], opset=6)


def loop_empty_trips():
    """A Loop whose trip count is an empty constant."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["acc_in"], ["acc_out"])], "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL), vi("acc_in", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("acc_out", [4])])
    trips = numpy_helper.from_array(np.zeros([0], np.int64), "trips")
    return model([helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)],
                 [vi("x", [4])], [vi("y", [4])], [trips])


def expand_huge():
    """Expand a [1] to 2^30 x 2^30 x 2^20 elements (4 EiB)."""
    t = numpy_helper.from_array(np.array([1 << 30, 1 << 30, 1 << 20], np.int64), "t")
    return model([helper.make_node("Expand", ["x", "t"], ["y"])], [vi("x", [1])],
                 [helper.make_tensor_value_info("y", F, None)], [t])


def reduce_mean(opset):
    if opset >= 18:
        axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
        node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)
        return model([node], [vi("x", [2, 3, 4])], [vi("y", [2, 4])],
                     [axes], opset)
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0)
    return model([node], [vi("x", [2, 3, 4])], [vi("y", [2, 4])], opset=opset)


def split(opset):
    if opset >= 18:
        node = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1,
                                num_outputs=3)
        return model([node], [vi("x", [2, 7])],
                     [vi("a", [2, 3]), vi("b", [2, 3]), vi("c", [2, 1])],
                     opset=opset)
    sizes = numpy_helper.from_array(np.array([3, 3, 1], np.int64), "sizes")
    node = helper.make_node("Split", ["x", "sizes"], ["a", "b", "c"], axis=1)
    return model([node], [vi("x", [2, 7])],
                 [vi("a", [2, 3]), vi("b", [2, 3]), vi("c", [2, 1])], [sizes],
                 opset)


def shape_chain():
    """x.view(x.size(0), -1) as torch exports it."""
    i0 = numpy_helper.from_array(np.array(0, np.int64), "i0")
    m1 = numpy_helper.from_array(np.array([-1], np.int64), "m1")
    ax = numpy_helper.from_array(np.array([0], np.int64), "ax")
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["b"], axis=0),
        helper.make_node("Unsqueeze", ["b", "ax"], ["b1"]),
        helper.make_node("Concat", ["b1", "m1"], ["t"], axis=0),
        helper.make_node("Reshape", ["x", "t"], ["y"]),
    ]
    return model(nodes, [vi("x", [2, 3, 4])], [vi("y", [2, 12])],
                 [i0, m1, ax])


def weights():
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((32, 32)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.arange(32, dtype=np.float32), "b")
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    return model(nodes, [vi("x", [8, 32])], [vi("y", [8, 32])], [w, b])


def unsupported():
    nodes = [helper.make_node("Foo", ["x"], ["y"], domain="com.example", name="foo"),
             helper.make_node("Relu", ["y"], ["z"]),
             helper.make_node("Bar", ["z"], ["w"], domain="com.example", name="bar")]
    return model(nodes, [vi("x", [4])], [vi("w", [4])], domains=["com.example"])


def transformer23():
    """Opset-23 RMSNormalization, RotaryEmbedding and Attention (GQA, causal)."""
    b, s, hq, hkv, d = 1, 8, 4, 2, 16
    rng = np.random.default_rng(1)
    scale = numpy_helper.from_array(np.ones(hq * d, np.float32), "g")
    cos = numpy_helper.from_array(rng.standard_normal((s, d // 2)).astype(np.float32), "cos")
    sin = numpy_helper.from_array(rng.standard_normal((s, d // 2)).astype(np.float32), "sin")
    pos = numpy_helper.from_array(np.arange(s, dtype=np.int64).reshape(1, s), "pos")
    nodes = [
        helper.make_node("RMSNormalization", ["x", "g"], ["xn"], epsilon=1e-6),
        helper.make_node("RotaryEmbedding", ["q", "cos", "sin", "pos"], ["qr"]),
        helper.make_node("RotaryEmbedding", ["k", "cos", "sin", "pos"], ["kr"]),
        helper.make_node("Attention", ["qr", "kr", "v"], ["o"], is_causal=1),
    ]
    return model(nodes,
                 [vi("x", [b, s, hq * d]), vi("q", [b, hq, s, d]),
                  vi("k", [b, hkv, s, d]), vi("v", [b, hkv, s, d])],
                 [vi("xn", [b, s, hq * d]), vi("o", [b, hq, s, d])],
                 [scale, cos, sin, pos], opset=23)


def control_flow():
    """If on a constant condition (as exporters' shape checks fold to) and a
    Loop over a constant trip count carrying a sum and scanning it."""
    one = numpy_helper.from_array(np.ones([4], np.float32), "one")
    then_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["t"])], "then",
                               [], [vi("t", [4])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "one"], ["e"])], "else",
                               [], [vi("e", [4])])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "x"], ["acc_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["acc_out"], ["scan"])],
        "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL),
         vi("acc_in", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("acc_out", [4]), vi("scan", [4])])
    nodes = [
        helper.make_node("Constant", [], ["c"], value=helper.make_tensor(
            "c", TensorProto.BOOL, [], [True])),
        helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g,
                         name="if_0"),
        helper.make_node("Constant", [], ["trips"], value=helper.make_tensor(
            "trips", TensorProto.INT64, [], [3])),
        helper.make_node("Loop", ["trips", "", "y"], ["sum", "all"], body=body,
                         name="loop_0"),
    ]
    return model(nodes, [vi("x", [4])], [vi("sum", [4]), vi("all", [3, 4])],
                 [one], opset=17)


def quantize():
    """Per-channel QuantizeLinear then DequantizeLinear (a QDQ pair)."""
    scale = numpy_helper.from_array(np.array([0.5, 0.25, 1.0], np.float32), "s")
    zp = numpy_helper.from_array(np.array([128, 0, 10], np.uint8), "zp")
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], axis=1)]
    return model(nodes, [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])], [scale, zp],
                 opset=13)


def lstm():
    """Bidirectional LSTM with bias and an initial state; Y_h unused."""
    h, i = 4, 3
    w = numpy_helper.from_array(np.ones((2, 4 * h, i), np.float32), "W")
    r = numpy_helper.from_array(np.ones((2, 4 * h, h), np.float32), "R")
    node = helper.make_node("LSTM", ["x", "W", "R", "", "", "h0"], ["y", "", "c"],
                            hidden_size=h, direction="bidirectional", name="lstm_0")
    return model([node], [vi("x", [5, 2, i]), vi("h0", [2, 2, h])],
                 [vi("y", [5, 2, 2, h]), vi("c", [2, 2, h])], [w, r])


def training_dropout():
    """Dropout whose training mode is a graph input, plus Bernoulli."""
    nodes = [helper.make_node("Dropout", ["x", "ratio", "training"], ["y", "mask"],
                              seed=1, name="drop_0"),
             helper.make_node("Bernoulli", ["p"], ["b"], name="bern_0")]
    return model(nodes, [vi("x", [3, 4]), vi("ratio", []),
                         vi("training", [], TensorProto.BOOL), vi("p", [3])],
                 [vi("y", [3, 4]), vi("mask", [3, 4], TensorProto.BOOL),
                  vi("b", [3])], opset=15)


def runtime_tile():
    """Tile whose repeats are a graph input."""
    node = helper.make_node("Tile", ["x", "reps"], ["y"], name="tile_0")
    return model([node], [vi("x", [2, 3]), vi("reps", [2], TensorProto.INT64)],
                 [vi("y", [None, None])])


def integer_ops():
    """MatMulInteger with a per-row zero point and QLinearMatMul."""
    U8, I8 = TensorProto.UINT8, TensorProto.INT8
    azp = numpy_helper.from_array(np.array([1, 2], np.uint8), "azp")
    sc = numpy_helper.from_array(np.array(0.5, np.float32), "sc")
    zp = numpy_helper.from_array(np.array(3, np.uint8), "zp")
    nodes = [helper.make_node("MatMulInteger", ["a", "b", "azp"], ["y"], name="mmi_0"),
             helper.make_node("QLinearMatMul", ["a", "sc", "zp", "b", "sc", "zp", "sc", "zp"],
                              ["q"], name="qmm_0")]
    return model(nodes, [vi("a", [2, 4], U8), vi("b", [4, 3], U8)],
                 [vi("y", [2, 3], TensorProto.INT32), vi("q", [2, 3], U8)],
                 [azp, sc, zp], opset=13)


def adam():
    """One Adam step (ai.onnx.preview.training only, no ai.onnx import)."""
    node = helper.make_node("Adam", ["R", "T", "X", "G", "V", "H"],
                            ["X_new", "V_new", "H_new"], alpha=0.9, beta=0.99,
                            domain="ai.onnx.preview.training", name="adam_0")
    graph = helper.make_graph(
        [node], "g", [vi("R", []), vi("T", [], TensorProto.INT64)] +
        [vi(n, [3]) for n in "XGVH"], [vi(n, [3]) for n in ("X_new", "V_new", "H_new")])
    m = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("ai.onnx.preview.training", 1)])
    m.ir_version = 8
    return m


def gradient():
    """Gradient of d = (a + b) * a with respect to a and b."""
    nodes = [helper.make_node("Add", ["a", "b"], ["c"]),
             helper.make_node("Mul", ["c", "a"], ["d"]),
             helper.make_node("Gradient", ["a", "b"], ["da", "db"], xs=["a", "b"],
                              y="d", domain="ai.onnx.preview.training", name="grad_0")]
    return model(nodes, [vi("a", [2]), vi("b", [2])],
                 [vi("d", [2]), vi("da", [2]), vi("db", [2])], opset=12,
                 domains=["ai.onnx.preview.training"])


def sequences():
    """SplitToSequence, SequenceInsert into SequenceEmpty, SequenceAt,
    ConcatFromSequence and SequenceLength."""
    pos = numpy_helper.from_array(np.array(-1, np.int64), "pos")
    nodes = [helper.make_node("SplitToSequence", ["x"], ["parts"], axis=1, keepdims=0),
             helper.make_node("SequenceEmpty", [], ["empty"]),
             helper.make_node("SequenceInsert", ["empty", "x"], ["one"]),
             helper.make_node("SequenceAt", ["one", "pos"], ["first"]),
             helper.make_node("ConcatFromSequence", ["parts"], ["stacked"], axis=0,
                              new_axis=1),
             helper.make_node("SequenceLength", ["parts"], ["n"])]
    return model(nodes, [vi("x", [2, 3])],
                 [vi("first", [2, 3]), vi("stacked", [3, 2]),
                  vi("n", [], TensorProto.INT64)], [pos], opset=13)


def strings_optional():
    """StringNormalizer on a string input and an optional sequence input."""
    seq = helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(TensorProto.INT32, [4]))
    opt = helper.make_value_info("o", helper.make_optional_type_proto(seq))
    nodes = [helper.make_node("StringNormalizer", ["s"], ["t"],
                              case_change_action="LOWER", stopwords=["monday"]),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalGetElement", ["o"], ["v"])]
    v_out = helper.make_value_info("v", seq)
    return model(nodes, [vi("s", [4], TensorProto.STRING), opt],
                 [vi("t", [None], TensorProto.STRING), vi("has", [], TensorProto.BOOL),
                  v_out], opset=18)


MODELS = {
    "sequences": sequences,
    "strings_optional": strings_optional,
    "lstm": lstm,
    "training_dropout": training_dropout,
    "runtime_tile": runtime_tile,
    "integer_ops": integer_ops,
    "adam": adam,
    "gradient": gradient,
    "quantize": quantize,
    "control_flow": control_flow,
    "add_bcast": add_bcast,
    "named_dims": named_dims,
    "scalar_input": scalar_input,
    "unsqueeze_70": unsqueeze_70,
    "unsqueeze_rank_71": unsqueeze_rank_71,
    "expand_huge": expand_huge,
    "range_huge": range_huge,
    "legacy_broadcast_axis": legacy_broadcast_axis,
    "loop_empty_trips": loop_empty_trips,
    "reduce_mean_13": lambda: reduce_mean(13),
    "reduce_mean_18": lambda: reduce_mean(18),
    "split_13": lambda: split(13),
    "split_18": lambda: split(18),
    "shape_chain": shape_chain,
    "weights": weights,
    "unsupported": unsupported,
    "transformer23": transformer23,
}


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        m = MODELS[name]()
        path = os.path.join(out, name + ".onnx")
        onnx.save(m, path)
        if name == "weights":  # the same model with its weights in a side file
            onnx.save(m, os.path.join(out, "weights_ext.onnx"),
                      save_as_external_data=True, all_tensors_to_one_file=True,
                      location="weights_ext.data", size_threshold=0)


if __name__ == "__main__":
    main()
