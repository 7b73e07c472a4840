#!/usr/bin/env python3
"""Test helper: `npy.py write FILE DTYPE SHAPE VALUES...` writes an array
(values repeat to fill it; DTYPE str or bytes keeps them as strings;
FILE.pb writes an ONNX TensorProto instead of .npy); `npy.py print FILE`
prints shape and values (strings quoted)."""
import sys

import numpy as np

if sys.argv[1] == "write":
    shape = tuple(int(d) for d in sys.argv[4].split("x")) if sys.argv[4] != "scalar" else ()
    n = int(np.prod(shape))
    if sys.argv[3] in ("str", "bytes"):
        vals = [v.encode() if sys.argv[3] == "bytes" else v for v in sys.argv[5:]]
        array = np.array([vals[i % len(vals)] for i in range(n)]).reshape(shape)
    else:
        vals = np.array([float(v) for v in sys.argv[5:]])
        array = np.resize(vals, n).reshape(shape).astype(sys.argv[3])
    if sys.argv[2].endswith(".pb"):
        from onnx import numpy_helper
        with open(sys.argv[2], "wb") as f:
            f.write(numpy_helper.from_array(array, "x").SerializeToString())
    else:
        np.save(sys.argv[2], array)
else:
    a = np.load(sys.argv[2])
    print("shape", a.shape, a.dtype)
    if a.dtype.kind in "US":
        print(" ".join(repr(str(v)) for v in a.ravel()))
    else:
        print(" ".join(f"{v:.6f}" for v in a.ravel()))
