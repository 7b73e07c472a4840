#!/usr/bin/env python3
"""onnxruntime's com.microsoft transformer ops through Kiln, against
onnxruntime itself: each case is a one-node model (Attention,
MultiHeadAttention, GroupQueryAttention, MoE) built with onnx.helper; onnxruntime's CPU session
gives the reference outputs; Kiln compiles the model (the fused op must be
in --emit=graph), runs it, and every output must match (rtol 1e-4, atol
1e-5; GQA's present caches compared on the positions a next step reads,
a padded prompt's outputs on its valid rows).

usage: contrib_ops.py --kiln KILN WORKDIR [--only NAME]
Prints "<case>: ok (<fused op>)" per case, then "N cases passed, M failed".
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, save

F = TensorProto.FLOAT
rng = np.random.default_rng(7)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def model(op, inputs, outputs, attrs, inits=()):
    """A one-node com.microsoft model; inputs: list of (name, array or
    None for an absent optional input); outputs: names."""
    names = [n if a is not None else "" for n, a in inputs]
    node = helper.make_node(op, names, list(outputs), domain="com.microsoft", name=op, **attrs)
    feeds = {n: a for n, a in inputs if a is not None and n not in dict(inits)}
    info = lambda n, a: helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape))
    graph = helper.make_graph(
        [node], op, [info(n, a) for n, a in feeds.items()],
        [helper.make_tensor_value_info(o, F, None) for o in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m, feeds


def mha_cases():
    b, s, l, h, d = 2, 5, 7, 4, 8
    q, k, v = randn(b, s, h * d), randn(b, l, h * d), randn(b, l, h * d)
    bias = randn(3 * h * d)
    yield "mha_cross_bias", model("MultiHeadAttention", [("q", q), ("k", k), ("v", v),
                                                         ("bias", bias)], ["y"],
                                  {"num_heads": h})
    lengths = np.array([7, 4], np.int32)
    yield "mha_key_lengths", model("MultiHeadAttention", [("q", q), ("k", k), ("v", v),
                                                          ("bias", None), ("kpm", lengths)],
                                   ["y"], {"num_heads": h, "scale": 0.3})
    pad = (rng.random((b, l)) > 0.3).astype(np.int32)
    pad[:, 0] = 1
    ab = randn(1, h, s, l)
    yield "mha_padding_bias", model("MultiHeadAttention", [("q", q), ("k", k), ("v", v),
                                                           ("bias", bias), ("kpm", pad),
                                                           ("ab", ab)], ["y"], {"num_heads": h})
    # Self-attention decode with a cache: 1 new token after 6.
    q1, k1, v1 = randn(b, 1, h * d), randn(b, 1, h * d), randn(b, 1, h * d)
    pk, pv = randn(b, h, 6, d), randn(b, h, 6, d)
    yield "mha_decode_cache", model(
        "MultiHeadAttention", [("q", q1), ("k", k1), ("v", v1), ("bias", None), ("kpm", None),
                               ("ab", None), ("past_key", pk), ("past_value", pv)],
        ["y", "present_key", "present_value"], {"num_heads": h})
    qs, ks, vs = randn(1, 6, h * d), randn(1, 6, h * d), randn(1, 6, h * d)
    yield "mha_unidirectional", model("MultiHeadAttention", [("q", qs), ("k", ks), ("v", vs)],
                                      ["y"], {"num_heads": h, "unidirectional": 1})


def attention_cases():
    """onnxruntime's Attention: the QKV projection packed in one weight."""
    b, s, h, d = 2, 5, 4, 8
    hid = h * d
    x = randn(b, s, 48)
    w, bias = 0.3 * randn(48, 3 * hid), randn(3 * hid)
    lengths = np.array([5, 3], np.int32)
    yield "attention_bert_lengths", model(
        "Attention", [("x", x), ("w", w), ("bias", bias), ("mask_index", lengths)], ["y"],
        {"num_heads": h}, inits=[("w", w), ("bias", bias)])
    # GPT-2 style: unidirectional decode step with the packed past/present.
    x1, past = randn(b, 1, 48), randn(2, b, h, 6, d)
    yield "attention_gpt2_past", model(
        "Attention", [("x", x1), ("w", w), ("bias", bias), ("mask_index", None), ("past", past)],
        ["y", "present"], {"num_heads": h, "unidirectional": 1}, inits=[("w", w), ("bias", bias)])


def gqa_cases():
    h, kvh, d = 8, 2, 16
    # Prompt: 2 batches of 6, the second right-padded to 4 tokens.
    b, s = 2, 6
    q, k, v = randn(b, s, h * d), randn(b, s, kvh * d), randn(b, s, kvh * d)
    seqlens = np.array([5, 3], np.int32)
    total = np.array(6, np.int32)
    yield "gqa_prompt_padded", model(
        "GroupQueryAttention", [("q", q), ("k", k), ("v", v), ("past_key", None),
                                ("past_value", None), ("seqlens_k", seqlens),
                                ("total_sequence_length", total)],
        ["y", "present_key", "present_value"], {"num_heads": h, "kv_num_heads": kvh})
    # Decode: 1 token after a past buffer of 9, batch lengths 10 and 7 (the
    # second batch's cache holds 6 valid entries).
    q1, k1, v1 = randn(b, 1, h * d), randn(b, 1, kvh * d), randn(b, 1, kvh * d)
    pk, pv = randn(b, kvh, 9, d), randn(b, kvh, 9, d)
    yield "gqa_decode", model(
        "GroupQueryAttention", [("q", q1), ("k", k1), ("v", v1), ("past_key", pk),
                                ("past_value", pv), ("seqlens_k", np.array([9, 6], np.int32)),
                                ("total_sequence_length", np.array(10, np.int32))],
        ["y", "present_key", "present_value"], {"num_heads": h, "kv_num_heads": kvh})
    # Sliding window (local_window_size: position p sees keys p-3..p): the
    # padded prompt, and the decode step over its cache.
    yield "gqa_window_prompt", model(
        "GroupQueryAttention", [("q", q), ("k", k), ("v", v), ("past_key", None),
                                ("past_value", None), ("seqlens_k", seqlens),
                                ("total_sequence_length", total)],
        ["y", "present_key", "present_value"],
        {"num_heads": h, "kv_num_heads": kvh, "local_window_size": 3})
    yield "gqa_window_decode", model(
        "GroupQueryAttention", [("q", q1), ("k", k1), ("v", v1), ("past_key", pk),
                                ("past_value", pv), ("seqlens_k", np.array([9, 6], np.int32)),
                                ("total_sequence_length", np.array(10, np.int32))],
        ["y", "present_key", "present_value"],
        {"num_heads": h, "kv_num_heads": kvh, "local_window_size": 4})
    # Gemma 2's softcap (scores capped by 2 * tanh(s / 2) before masking).
    yield "gqa_softcap_decode", model(
        "GroupQueryAttention", [("q", q1 * 4), ("k", k1), ("v", v1), ("past_key", pk * 4),
                                ("past_value", pv), ("seqlens_k", np.array([9, 6], np.int32)),
                                ("total_sequence_length", np.array(10, np.int32))],
        ["y", "present_key", "present_value"],
        {"num_heads": h, "kv_num_heads": kvh, "softcap": 2.0})
    # Rotary, packed QKV, a 3-token chunk after 5 cached (batch 1).
    cos = np.cos(rng.random((32, d // 2))).astype(np.float32)
    sin = np.sin(rng.random((32, d // 2))).astype(np.float32)
    packed = randn(1, 3, (h + 2 * kvh) * d)
    pk, pv = randn(1, kvh, 5, d), randn(1, kvh, 5, d)
    yield "gqa_rotary_packed_chunk", model(
        "GroupQueryAttention", [("qkv", packed), ("k", None), ("v", None), ("past_key", pk),
                                ("past_value", pv), ("seqlens_k", np.array([7], np.int32)),
                                ("total_sequence_length", np.array(8, np.int32)),
                                ("cos", cos), ("sin", sin)],
        ["y", "present_key", "present_value"],
        {"num_heads": h, "kv_num_heads": kvh, "do_rotary": 1}, inits=[("cos", cos), ("sin", sin)])


def moe_model(x, router, fc1, fc2, attrs, fc3=None):
    """MatMul(x, router) -> Reshape to 2-D -> MoE (initializer weights)."""
    nodes = [helper.make_node("MatMul", ["x", "router"], ["logits3"], name="router"),
             helper.make_node("Reshape", ["logits3", "rows"], ["logits"], name="rows"),
             helper.make_node("MoE", ["x", "logits", "fc1", "", "fc2", "", "fc3" if fc3 is not None
                                      else ""], ["y"], domain="com.microsoft", name="MoE",
                              **attrs)]
    inits = [("router", router), ("fc1", fc1), ("fc2", fc2),
             ("rows", np.array([-1, router.shape[1]], np.int64))] + ([("fc3", fc3)] if fc3 is not None
                                                                 else [])
    graph = helper.make_graph(
        nodes, "moe", [helper.make_tensor_value_info("x", F, list(x.shape))],
        [helper.make_tensor_value_info("y", F, None)],
        [numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m, {"x": x}


def moe_cases():
    e, hid, inter = 8, 64, 96
    router = randn(hid, e)
    fc1 = 0.2 * randn(e, 2 * inter, hid)
    fc2 = 0.2 * randn(e, hid, inter)
    # onnxruntime's CPU MoE: SwiGLU with gate and up interleaved in fc1.
    yield "moe_swiglu_top2", moe_model(randn(37, hid), router, fc1, fc2,
                                       {"k": 2, "activation_type": "swiglu", "swiglu_fusion": 1,
                                        "normalize_routing_weights": 1})
    yield "moe_swiglu_top3_3d", moe_model(randn(2, 9, hid), router, fc1, fc2,
                                          {"k": 3, "activation_type": "swiglu",
                                           "swiglu_fusion": 1})


def valid_part(case, feeds, name, got, want):
    """GQA: the present beyond a batch's total length, and the outputs of a
    right-padded prompt's padding rows, are unspecified (onnxruntime's
    differ from any attention over the valid keys, and are sometimes NaN:
    selected away, not multiplied by 0)."""
    if not case.startswith("gqa"):
        return got, want
    lengths = feeds["seqlens_k"] + 1
    if name.startswith("present"):
        mask = (np.arange(want.shape[2])[None, :] < lengths[:, None])[:, None, :, None]
        return np.where(mask, got, 0), np.where(mask, want, 0)
    if "past_key" not in feeds:
        rows = (np.arange(want.shape[1])[None, :] < lengths[:, None])[:, :, None]
        return np.where(rows, got, 0), np.where(rows, want, 0)
    return got, want


def write_bad(d):
    """Models the importer must reject with a clear error."""
    os.makedirs(d, exist_ok=True)
    q, kv = randn(1, 4, 32), randn(1, 4, 32)
    save(model("MultiHeadAttention", [("q", q), ("k", kv), ("v", kv)], ["y"], {})[0],
         os.path.join(d, "mha_no_heads.onnx"))
    save(model("MultiHeadAttention", [("q", q), ("k", kv), ("v", kv), ("bias", randn(7))], ["y"],
               {"num_heads": 4})[0], os.path.join(d, "mha_bias.onnx"))
    gqa = [("q", randn(1, 2, 48)), ("k", randn(1, 2, 32)), ("v", randn(1, 2, 32)),
           ("past_key", None), ("past_value", None), ("seqlens_k", np.array([1], np.int32)),
           ("total_sequence_length", np.array(2, np.int32))]
    save(model("GroupQueryAttention", gqa, ["y", "pk", "pv"],
               {"num_heads": 3, "kv_num_heads": 2})[0], os.path.join(d, "gqa_heads.onnx"))
    save(model("GroupQueryAttention", gqa, ["y", "pk", "pv"],
               {"num_heads": 4, "kv_num_heads": 2, "smooth_softmax": 1})[0],
         os.path.join(d, "gqa_smooth_softmax.onnx"))
    e, hid = 2, 8
    m = model("MoE", [("x", randn(3, hid)), ("probs", randn(3, e)),
                      ("fc1", randn(e, 2 * 4, hid)), ("b1", None), ("fc2", randn(e, hid, 4))],
              ["y"], {"k": 1, "activation_type": "swiglu", "swiglu_fusion": 1})[0]
    save(m, os.path.join(d, "moe_router.onnx"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln")
    ap.add_argument("workdir", nargs="?")
    ap.add_argument("--only")
    ap.add_argument("--write-bad", metavar="DIR")
    a = ap.parse_args()
    if a.write_bad:
        write_bad(a.write_bad)
        return
    passed = failed = 0
    for case, (m, feeds) in [*attention_cases(), *mha_cases(), *gqa_cases(), *moe_cases()]:
        if a.only and a.only != case:
            continue
        d = os.path.join(a.workdir, case)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        save(m, path)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        want = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
        args = []
        for n, x in feeds.items():
            np.save(os.path.join(d, n + ".npy"), x)
            args += ["--input", f"{n}={os.path.join(d, n + '.npy')}"]
        graph = subprocess.run([a.kiln, "compile", path, "--emit=graph"], capture_output=True,
                               text=True)
        fused = [op for op in ("kiln.attention", "kiln.moe") if op in graph.stdout]
        art = os.path.join(d, "model.kiln")
        out = os.path.join(d, "out")
        run = subprocess.run([a.kiln, "compile", path, "-o", art], capture_output=True, text=True)
        if run.returncode == 0:
            run = subprocess.run([a.kiln, "run", art, *args, "--output-dir", out],
                                 capture_output=True, text=True)
        problem = None
        if run.returncode != 0:
            problem = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"
        elif not fused:
            problem = "no fused op in --emit=graph"
        else:
            for name, w in want.items():
                g = np.load(os.path.join(out, name + ".npy"))
                if g.shape != w.shape:
                    problem = f"{name}: shape {g.shape} vs {w.shape}"
                    break
                g, w = valid_part(case, feeds, name, g, w)
                if not np.allclose(g, w, rtol=1e-4, atol=1e-5):
                    problem = f"{name}: max |diff| {np.abs(g - w).max():.3g}"
                    break
        if problem:
            failed += 1
            print(f"{case}: FAILED: {problem}")
        else:
            passed += 1
            print(f"{case}: ok ({fused[0]})")
    print(f"{passed} cases passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
