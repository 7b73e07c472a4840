#!/usr/bin/env python3
"""Writes the ONNX node test models of the installed `onnx` package.

The PyPI onnx (requirements.txt) knows current opsets (18+); its node test
cases are generated in Python rather than shipped. This writes each case's
model to OUTDIR/<case>/model.onnx (the layout import_suite.py reads).

usage: gen_pypi_node_suite.py OUTDIR
"""
import os
import sys
import warnings

import onnx
from onnx.backend.test.case import node


def main():
    out = sys.argv[1]
    warnings.simplefilter("ignore")
    cases = node.collect_testcases(None)
    for case in cases:
        folder = os.path.join(out, case.name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
    print(f"onnx {onnx.__version__}: wrote {len(cases)} node cases to {out}")


if __name__ == "__main__":
    main()
