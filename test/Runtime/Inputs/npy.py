#!/usr/bin/env python3
"""Test helper: `npy.py write FILE DTYPE SHAPE VALUES...` writes an array
(values repeat to fill it; FILE.pb writes an ONNX TensorProto instead of
.npy); `npy.py print FILE` prints shape and values."""
import sys

import numpy as np

if sys.argv[1] == "write":
    shape = tuple(int(d) for d in sys.argv[4].split("x")) if sys.argv[4] != "scalar" else ()
    vals = np.array([float(v) for v in sys.argv[5:]])
    n = int(np.prod(shape))
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
    print(" ".join(f"{v:.6f}" for v in a.ravel()))
