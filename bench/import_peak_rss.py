#!/usr/bin/env python3
"""Peak RSS of `kiln import` on a model holding a large initializer.

Writes MatMul(x, W) with W of SIZE_MB megabytes, inline in the .onnx file and
as external data, imports both with `kiln import`, and reports peak RSS
(from /usr/bin/time -v) next to the weight size. Weights are memory-mapped
and referenced, so peak RSS should stay far below the weight size.

usage: bench/import_peak_rss.py [--kiln build/bin/kiln] [--size-mb 1024] [--dir DIR]
"""
import argparse
import os
import re
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper


def make_model(path, size_mb, external):
    n = int((size_mb * 2**20 / 4) ** 0.5)
    w = helper.make_tensor("W", TensorProto.FLOAT, [n, n],
                           np.ones((n, n), np.float32).tobytes(), raw=True)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if external:
        onnx.save(model, path, save_as_external_data=True,
                  location=os.path.basename(path) + ".data")
    else:
        onnx.save(model, path)
    return n * n * 4


def peak_rss_kib(cmd):
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default="build/bin/kiln")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    folder = args.dir or tempfile.mkdtemp(prefix="kiln-rss-")
    print(f"{'model':<22}{'weights MiB':>12}{'file MiB':>10}{'peak RSS MiB':>14}{'RSS/weights':>13}")
    runs = [("baseline (1 MiB)", 1, False), ("inline initializer", args.size_mb, False),
            ("external data", args.size_mb, True)]
    for name, size_mb, external in runs:
        path = os.path.join(folder, "big_ext.onnx" if external else "big.onnx")
        size = make_model(path, size_mb, external)
        on_disk = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                      if f.startswith(os.path.basename(path)))
        rss = peak_rss_kib([args.kiln, "import", path, "-o", os.path.join(folder, "out.mlir")])
        print(f"{name:<22}{size / 2**20:>12.0f}{on_disk / 2**20:>10.0f}"
              f"{rss / 1024:>14.1f}{rss * 1024 / size:>13.3f}")
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))


if __name__ == "__main__":
    main()
