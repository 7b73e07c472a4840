"""Test helper: `check_dynamic.py KILN ART.kiln MODEL.onnx SHAPES [--tol T]` runs
one dynamic-dims artifact at each shape (SHAPES: "1x1,2x7,1x128" gives the
dynamic dims of every input in order; inputs sharing a named dim share it)
with `kiln run` and compares every output with onnxruntime on the same ONNX
file. Prints one line per shape and "all match" when every output does."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

kiln, art, model, shapes = sys.argv[1:5]
tol = float(sys.argv[sys.argv.index("--tol") + 1]) if "--tol" in sys.argv else 1e-4
proto = onnx.load(model)
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
rng = np.random.default_rng(1)
ok = True
with tempfile.TemporaryDirectory() as tmp:
    for spec in shapes.split(","):
        sizes = [int(s) for s in spec.split("x")]
        named, feeds, cmd = {}, {}, [kiln, "run", art, "--output-dir", tmp]
        for inp in proto.graph.input:
            shape = []
            for dim in inp.type.tensor_type.shape.dim:
                if dim.HasField("dim_value"):
                    shape.append(dim.dim_value)
                elif dim.dim_param and dim.dim_param in named:
                    shape.append(named[dim.dim_param])
                else:
                    shape.append(sizes.pop(0))
                    if dim.dim_param:
                        named[dim.dim_param] = shape[-1]
            x = rng.standard_normal(shape).astype(np.float32)
            feeds[inp.name] = x
            np.save(os.path.join(tmp, inp.name + ".in.npy"), x)
            cmd += ["--input", f"{inp.name}={os.path.join(tmp, inp.name + '.in.npy')}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print(f"{spec}: run failed: {r.stderr.strip()}")
            ok = False
            continue
        refs = sess.run(None, feeds)
        for out, ref in zip(proto.graph.output, refs):
            got = np.load(os.path.join(tmp, out.name + ".npy"))
            err = float(np.abs(got - ref).max() / max(1.0, np.abs(ref).max())) if ref.size else 0.0
            good = got.shape == ref.shape and err <= tol
            ok &= good
            print(f"{spec}: {out.name} {list(got.shape)} {'ok' if good else 'WRONG'} error {err:.1e}")
print("all match" if ok else "MISMATCH")
