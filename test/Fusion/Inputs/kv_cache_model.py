#!/usr/bin/env python3
"""Writes an attention step with a KV cache the way exporters write it:
Concat(past_key, key) and Concat(past_value, value) on the sequence axis
(also graph outputs: the present cache), MatMul(Q, Transpose(K)), Div by
sqrt(d), an optional causal mask given as data (bottom-right aligned:
query i sees keys up to i + past), Softmax, MatMul V. Writes the inputs and
the NumPy reference outputs too.

usage: kv_cache_model.py DIR [--new N] [--past P] [--heads H] [--dim D]
Writes DIR/model.onnx, DIR/<input>.npy, DIR/want_<output>.npy.
"""
import argparse
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--new", type=int, default=1)
ap.add_argument("--past", type=int, default=31)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--dim", type=int, default=16)
a = ap.parse_args()
S, P, H, D = a.new, a.past, a.heads, a.dim
L = S + P
rng = np.random.default_rng(5)
data = {"q": rng.standard_normal((1, H, S, D)), "k": rng.standard_normal((1, H, S, D)),
        "v": rng.standard_normal((1, H, S, D)), "past_key": rng.standard_normal((1, H, P, D)),
        "past_value": rng.standard_normal((1, H, P, D))}
data = {n: x.astype(np.float32) for n, x in data.items()}
inits = [numpy_helper.from_array(np.array(np.sqrt(D), np.float32), "sqrt_d")]
nodes = [
    helper.make_node("Concat", ["past_key", "k"], ["present_key"], name="cache/ConcatK", axis=2),
    helper.make_node("Concat", ["past_value", "v"], ["present_value"], name="cache/ConcatV",
                     axis=2),
    helper.make_node("Transpose", ["present_key"], ["kt"], name="attn/Transpose",
                     perm=[0, 1, 3, 2]),
    helper.make_node("MatMul", ["q", "kt"], ["s"], name="attn/MatMul"),
    helper.make_node("Div", ["s", "sqrt_d"], ["scaled"], name="attn/Div"),
]
scores = "scaled"
if S > 1:
    i = np.arange(S)[:, None]
    j = np.arange(L)[None, :]
    mask = np.where(j <= i + P, 0.0, -np.inf).astype(np.float32)
    inits.append(numpy_helper.from_array(mask, "mask"))
    nodes.append(helper.make_node("Add", ["scaled", "mask"], ["masked"], name="attn/Add"))
    scores = "masked"
nodes += [helper.make_node("Softmax", [scores], ["p"], name="attn/Softmax", axis=-1),
          helper.make_node("MatMul", ["p", "present_value"], ["out"], name="attn/MatMul_1")]
info = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
graph = helper.make_graph(
    nodes, "kv_cache",
    [info(n, list(x.shape)) for n, x in data.items()],
    [info("out", [1, H, S, D]), info("present_key", [1, H, L, D]),
     info("present_value", [1, H, L, D])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
os.makedirs(a.dir, exist_ok=True)
save(model, os.path.join(a.dir, "model.onnx"))
for n, x in data.items():
    np.save(os.path.join(a.dir, n + ".npy"), x)
key = np.concatenate([data["past_key"], data["k"]], 2).astype(np.float64)
value = np.concatenate([data["past_value"], data["v"]], 2).astype(np.float64)
s = data["q"].astype(np.float64) @ key.transpose(0, 1, 3, 2) / np.sqrt(D)
if S > 1:
    s = s + mask
p = np.exp(s - s.max(-1, keepdims=True))
p /= p.sum(-1, keepdims=True)
np.save(os.path.join(a.dir, "want_out.npy"), (p @ value).astype(np.float32))
np.save(os.path.join(a.dir, "want_present_key.npy"), key.astype(np.float32))
np.save(os.path.join(a.dir, "want_present_value.npy"), value.astype(np.float32))
