#!/usr/bin/env python3
"""Writes the dense-masked MoE layer torch exports for a loop over experts
(Mixtral style: softmax router, TopK, weights renormalized, every expert's
SwiGLU computed and weighted by ReduceSum(w * Cast(idx == e))), with named
nodes, plus an input and the NumPy reference output.

With --shared plain|gated a shared expert is added to the sum (DeepSeek
style, or Qwen-MoE style scaled by sigmoid(x · g)); --no-normalize keeps
the raw TopK probabilities as weights (Qwen-MoE's norm_topk_prob = False).

usage: moe_model.py OUT.onnx X.npy EXPECTED.npy [--top-k K] [--experts E]
                    [--tokens T] [--shared none|plain|gated] [--no-normalize]
"""
import argparse

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("x")
ap.add_argument("expected")
ap.add_argument("--top-k", type=int, default=2)
ap.add_argument("--experts", type=int, default=4)
ap.add_argument("--tokens", type=int, default=24)
ap.add_argument("--hidden", type=int, default=32)
ap.add_argument("--inter", type=int, default=48)
ap.add_argument("--shared", choices=["none", "plain", "gated"], default="none")
ap.add_argument("--no-normalize", action="store_true")
args = ap.parse_args()
rng = np.random.default_rng(3)
E, K, T, H, I = args.experts, args.top_k, args.tokens, args.hidden, args.inter
router = rng.standard_normal((H, E)).astype(np.float32)
gates = [(rng.standard_normal((H, I)) / np.sqrt(H)).astype(np.float32) for _ in range(E)]
ups = [(rng.standard_normal((H, I)) / np.sqrt(H)).astype(np.float32) for _ in range(E)]
downs = [(rng.standard_normal((I, H)) / np.sqrt(I)).astype(np.float32) for _ in range(E)]
x = rng.standard_normal((1, T, H)).astype(np.float32)

inits = [numpy_helper.from_array(router, "router.weight"),
         numpy_helper.from_array(np.array([K], dtype=np.int64), "k"),
         numpy_helper.from_array(np.zeros((1, T, H), np.float32), "zeros")]
nodes = [
    helper.make_node("MatMul", ["x", "router.weight"], ["logits"], name="router/MatMul"),
    helper.make_node("Softmax", ["logits"], ["probs"], name="Softmax", axis=-1),
    helper.make_node("TopK", ["probs", "k"], ["topv", "topi"], name="TopK", axis=-1),
]
if args.no_normalize:
    nodes.append(helper.make_node("Identity", ["topv"], ["w"], name="weights"))
else:
    nodes += [helper.make_node("ReduceSum", ["topv", "axis"], ["topsum"], name="ReduceSum",
                               keepdims=1),
              helper.make_node("Div", ["topv", "topsum"], ["w"], name="Div")]
inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis"))
acc = "zeros"
for e in range(E):
    p = f"experts.{e}"
    inits += [numpy_helper.from_array(gates[e], f"{p}.gate"),
              numpy_helper.from_array(ups[e], f"{p}.up"),
              numpy_helper.from_array(downs[e], f"{p}.down"),
              numpy_helper.from_array(np.array(e, dtype=np.int64), f"e{e}")]
    nodes += [
        helper.make_node("Equal", ["topi", f"e{e}"], [f"eq{e}"], name=f"Equal_{e}"),
        helper.make_node("Cast", [f"eq{e}"], [f"m{e}"], name=f"Cast_{e}", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["w", f"m{e}"], [f"wm{e}"], name=f"Mul_w{e}"),
        helper.make_node("ReduceSum", [f"wm{e}", "axis"], [f"we{e}"], name=f"ReduceSum_{e}",
                         keepdims=1),
        helper.make_node("MatMul", ["x", f"{p}.gate"], [f"g{e}"], name=f"{p}/gate/MatMul"),
        helper.make_node("Sigmoid", [f"g{e}"], [f"sg{e}"], name=f"{p}/Sigmoid"),
        helper.make_node("Mul", [f"g{e}", f"sg{e}"], [f"a{e}"], name=f"{p}/Mul"),
        helper.make_node("MatMul", ["x", f"{p}.up"], [f"u{e}"], name=f"{p}/up/MatMul"),
        helper.make_node("Mul", [f"a{e}", f"u{e}"], [f"h{e}"], name=f"{p}/Mul_1"),
        helper.make_node("MatMul", [f"h{e}", f"{p}.down"], [f"y{e}"], name=f"{p}/down/MatMul"),
        helper.make_node("Mul", [f"we{e}", f"y{e}"], [f"t{e}"], name=f"Mul_{e}"),
        helper.make_node("Add", [acc, f"t{e}"], [f"acc{e}"], name=f"Add_{e}"),
    ]
    acc = f"acc{e}"
if args.shared != "none":
    sg = (rng.standard_normal((H, 2 * I)) / np.sqrt(H)).astype(np.float32)
    su = (rng.standard_normal((H, 2 * I)) / np.sqrt(H)).astype(np.float32)
    sd = (rng.standard_normal((2 * I, H)) / np.sqrt(2 * I)).astype(np.float32)
    inits += [numpy_helper.from_array(sg, "shared.gate"), numpy_helper.from_array(su, "shared.up"),
              numpy_helper.from_array(sd, "shared.down")]
    nodes += [
        helper.make_node("MatMul", ["x", "shared.gate"], ["sg"], name="shared/gate/MatMul"),
        helper.make_node("Sigmoid", ["sg"], ["ssg"], name="shared/Sigmoid"),
        helper.make_node("Mul", ["sg", "ssg"], ["sa"], name="shared/Mul"),
        helper.make_node("MatMul", ["x", "shared.up"], ["su"], name="shared/up/MatMul"),
        helper.make_node("Mul", ["sa", "su"], ["sh"], name="shared/Mul_1"),
        helper.make_node("MatMul", ["sh", "shared.down"], ["sy"], name="shared/down/MatMul"),
    ]
    shared_out = "sy"
    if args.shared == "gated":
        seg = rng.standard_normal((H, 1)).astype(np.float32)
        inits.append(numpy_helper.from_array(seg, "shared_expert_gate.weight"))
        nodes += [
            helper.make_node("MatMul", ["x", "shared_expert_gate.weight"], ["sgl"],
                             name="shared_expert_gate/MatMul"),
            helper.make_node("Sigmoid", ["sgl"], ["sgs"], name="shared_expert_gate/Sigmoid"),
            helper.make_node("Mul", ["sgs", "sy"], ["sy2"], name="shared_expert_gate/Mul"),
        ]
        shared_out = "sy2"
    nodes.append(helper.make_node("Add", [acc, shared_out], ["total"], name="Add_shared"))
    acc = "total"
nodes.append(helper.make_node("Identity", [acc], ["y"], name="out"))
graph = helper.make_graph(nodes, "moe",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, H])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, T, H])],
                          inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
save(model, args.model)

# Reference: route, then only the chosen experts.
xs = x[0].astype(np.float64)
logits = xs @ router
probs = np.exp(logits - logits.max(-1, keepdims=True))
probs /= probs.sum(-1, keepdims=True)
idx = np.argsort(-probs, axis=-1, kind="stable")[:, :K]
w = np.take_along_axis(probs, idx, -1)
if not args.no_normalize:
    w /= w.sum(-1, keepdims=True)
y = np.zeros_like(xs)
for t in range(T):
    for j in range(K):
        e = idx[t, j]
        g = xs[t] @ gates[e]
        h = g / (1 + np.exp(-g)) * (xs[t] @ ups[e])
        y[t] += w[t, j] * (h @ downs[e])
if args.shared != "none":
    g = xs @ sg
    s = (g / (1 + np.exp(-g)) * (xs @ su)) @ sd
    if args.shared == "gated":
        s = s / (1 + np.exp(-(xs @ seg)))
    y += s
np.save(args.x, x)
np.save(args.expected, y[None].astype(np.float32))
