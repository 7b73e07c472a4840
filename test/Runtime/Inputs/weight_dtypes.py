#!/usr/bin/env python3
"""Constants of every element type kiln imports, small enough to be inlined
(255 elements) and large enough to become weights read from the model file
(256 and 1000 elements), as initializers, Constant nodes and external data:
each is compiled and run, and its use compared with NumPy. A weight's
bytes must be sized by the element's storage (an ONNX BOOL takes a byte),
not its bit width: bool masks of 256+ elements were read wrong once.

usage: weight_dtypes.py KILN WORKDIR    prints one line per case, exits 1
on any mismatch.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

KILN, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
rng = np.random.default_rng(0)


def bf16_bits(a):
    """float32 -> bfloat16 bit patterns (round to nearest even)."""
    u = a.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def values(dtype, n):
    if dtype == "bool":
        return rng.random(n) < 0.5
    if dtype in ("float16", "float32", "float64"):
        return rng.standard_normal(n).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -100), min(info.max, 100), n, endpoint=True).astype(dtype)


def tensor(name, dtype, a):
    if dtype == "bfloat16":
        t = helper.make_tensor(name, TensorProto.BFLOAT16, a.shape, a.tobytes(), raw=True)
        return t
    return numpy_helper.from_array(a, name)


def case(dtype, n, how):
    """y = Where(W, x, -1) for bool, Cast(W, FLOAT) + x otherwise."""
    name = f"{dtype}_{n}_{how}"
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    if dtype == "bfloat16":
        w = bf16_bits(rng.standard_normal(n))
        wf = bf16_value(w)
    else:
        w = values(dtype, n)
        wf = w.astype(np.float32)
    t = tensor("W", dtype, w)
    x = rng.standard_normal(n).astype(np.float32)
    nodes, inits = [], []
    if how == "constant":
        nodes.append(helper.make_node("Constant", [], ["W"], value=t, name="const"))
    else:
        inits.append(t)
    if dtype == "bool":
        minus = numpy_helper.from_array(np.array(-1, np.float32), "minus")
        inits.append(minus)
        nodes.append(helper.make_node("Where", ["W", "x", "minus"], ["y"], name="where"))
        want = np.where(w, x, np.float32(-1))
    else:
        nodes.append(helper.make_node("Cast", ["W"], ["wf"], to=TensorProto.FLOAT, name="cast"))
        nodes.append(helper.make_node("Add", ["wf", "x"], ["y"], name="add"))
        want = wf + x
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = os.path.join(d, "m.onnx")
    if how == "external":
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="m.data", size_threshold=0)
    else:
        onnx.save_model(m, path)
    np.save(os.path.join(d, "x.npy"), x)
    for step in ([KILN, "compile", path, "-o", os.path.join(d, "m.kiln")],
                 [KILN, "run", os.path.join(d, "m.kiln"), "--input", "x=" + os.path.join(d, "x.npy"),
                  "--output-dir", os.path.join(d, "out")]):
        r = subprocess.run(step, capture_output=True, text=True)
        if r.returncode:
            print(f"{name}: FAIL ({step[1]}: {r.stderr.strip()})")
            return False
    got = np.load(os.path.join(d, "out", "y.npy"))
    wrong = int(np.sum(got != want))
    print(f"{name}: {'ok' if wrong == 0 else 'FAIL'} ({wrong} of {n} wrong)")
    return wrong == 0


ok = True
for dtype in ["bool", "int8", "uint8", "int16", "uint16", "int32", "int64", "float16",
              "bfloat16", "float32", "float64"]:
    for n in (255, 256, 1000):
        for how in ("initializer", "constant", "external"):
            ok &= case(dtype, n, how)
sys.exit(0 if ok else 1)
