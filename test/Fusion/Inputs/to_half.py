#!/usr/bin/env python3
"""to_half.py IN.onnx OUT.onnx [--bf16] [--npy X.npy OUT.npy]...: the same
model computing in float16 (or bfloat16): float initializers, Constant
values, graph inputs/outputs and Cast(to=FLOAT) become half precision
(a checkpoint stored in half precision, as real ones are). --npy converts
input files alongside."""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("--bf16", action="store_true")
ap.add_argument("--npy", nargs=2, action="append", default=[])
a = ap.parse_args()
half = TensorProto.BFLOAT16 if a.bf16 else TensorProto.FLOAT16


def convert(t):
    if t.data_type != TensorProto.FLOAT:
        return t
    x = numpy_helper.to_array(t)
    if a.bf16:
        bits = (x.astype(np.float32).view(np.uint32) + 0x8000) >> 16  # round to nearest
        out = helper.make_tensor(t.name, half, x.shape, bits.astype(np.uint16).tobytes(), raw=True)
    else:
        out = numpy_helper.from_array(x.astype(np.float16), t.name)
    return out


m = onnx.load(a.src)
g = m.graph
for i, t in enumerate(list(g.initializer)):
    g.initializer[i].CopyFrom(convert(t))
for vi in list(g.input) + list(g.output) + list(g.value_info):
    if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
        vi.type.tensor_type.elem_type = half
for n in g.node:
    for attr in n.attribute:
        if n.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
            attr.i = half
        if attr.type == onnx.AttributeProto.TENSOR:
            attr.t.CopyFrom(convert(attr.t))
onnx.save(m, a.dst)
for src, dst in a.npy:
    x = np.load(src)
    np.save(dst, x.astype(np.float16) if not a.bf16 else x)
