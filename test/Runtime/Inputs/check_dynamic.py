"""Test helper: `check_dynamic.py KILN ART.kiln MODEL.onnx SHAPES [--tol T] [--hf [--pad N]]` runs
one dynamic-dims artifact at each shape (float inputs random normal,
integer inputs token ids in [0, 100) or, named *mask*, ones) (SHAPES: "1x1,2x7,1x128" gives the
dynamic dims of every input in order; inputs sharing a named dim share it)
with `kiln run` and compares every output with onnxruntime on the same ONNX
file. Prints one line per shape and "all match" when every output does."""
import sys
import tempfile

import numpy as np
import onnx
from kiln_vs_ort import run_and_compare
import onnxruntime as ort

kiln, art, model, shapes = sys.argv[1:5]
# --hf: SHAPES are "LxP" pairs for a Hugging Face export (batch 1, L new
# tokens, P cached ones) or "BxLxP" triples (batch B): input_ids [B, L],
# attention_mask [B, P + L], past_* [B, heads, P, dim], whatever the
# exporter named the dims. --pad N: rows after the first are left-padded
# (their first N mask entries 0), as a batch of prompts of different lengths.
hf = "--hf" in sys.argv
pad = int(sys.argv[sys.argv.index("--pad") + 1]) if "--pad" in sys.argv else 0
tol = float(sys.argv[sys.argv.index("--tol") + 1]) if "--tol" in sys.argv else 1e-4


def judge(got, ref):
    """Largest error relative to the reference's scale (at least 1)."""
    if got.shape != ref.shape:
        return False, ""
    got64, ref64 = got.astype(np.float64), ref.astype(np.float64)
    err = float(np.abs(got64 - ref64).max() / max(1.0, np.abs(ref64).max())) if ref.size else 0.0
    return err <= tol, f" error {err:.1e}"


proto = onnx.load(model)
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
rng = np.random.default_rng(1)
ok = True
with tempfile.TemporaryDirectory() as tmp:
    for spec in shapes.split(","):
        sizes = [int(s) for s in spec.split("x")]
        named, feeds = {}, {}
        for inp in proto.graph.input:
            shape = []
            if hf:
                batch, new, past = sizes if len(sizes) == 3 else [1] + sizes
                dims = [d.dim_value or None for d in inp.type.tensor_type.shape.dim]
                if inp.name == "input_ids":
                    shape = [batch, new]
                elif inp.name == "attention_mask":
                    shape = [batch, past + new]
                else:
                    shape = [batch, dims[1], past, dims[3]]
            for dim in ([] if hf else inp.type.tensor_type.shape.dim):
                if dim.HasField("dim_value"):
                    shape.append(dim.dim_value)
                elif dim.dim_param and dim.dim_param in named:
                    shape.append(named[dim.dim_param])
                else:
                    shape.append(sizes.pop(0))
                    if dim.dim_param:
                        named[dim.dim_param] = shape[-1]
            elem = onnx.helper.tensor_dtype_to_np_dtype(inp.type.tensor_type.elem_type)
            if np.issubdtype(elem, np.integer):  # token ids; a mask of ones
                x = (np.ones(shape) if "mask" in inp.name else rng.integers(0, 100, shape))
                if "mask" in inp.name and hf:
                    x[1:, :pad] = 0
                x = x.astype(elem)
            else:
                x = rng.standard_normal(shape).astype(elem)
            feeds[inp.name] = x
        ok &= run_and_compare(kiln, art, tmp, feeds, sess, proto.graph.output, spec, judge)
print("all match" if ok else "MISMATCH")
