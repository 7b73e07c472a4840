#!/usr/bin/env python3
"""Writes the ONNX node test models of the installed `onnx` package.

The PyPI onnx (requirements.txt) knows current opsets (18+); its node test
cases are generated in Python rather than shipped. This writes each case's
model to OUTDIR/<case>/model.onnx (the layout import_suite.py reads) and,
with --with-data, its first data set as test_data_set_0/{input,output}_N.pb
(the layout conformance.py reads; cases whose data is not plain tensors are
written without it).

usage: gen_pypi_node_suite.py OUTDIR [--with-data]
"""
import os
import sys
import warnings

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node


def write_data(folder, case):
    inputs, outputs = case.data_sets[0]
    graph = case.model.graph
    data = os.path.join(folder, "test_data_set_0")
    try:
        tensors = [(f"input_{i}", graph.input[i].name, a) for i, a in enumerate(inputs)]
        tensors += [(f"output_{i}", graph.output[i].name, a) for i, a in enumerate(outputs)]
        protos = [(f, numpy_helper.from_array(a, name)) for f, name, a in tensors]
    except Exception:  # sequences, optionals, maps
        return
    os.makedirs(data, exist_ok=True)
    for f, proto in protos:
        with open(os.path.join(data, f + ".pb"), "wb") as out:
            out.write(proto.SerializeToString())


def main():
    out = sys.argv[1]
    warnings.simplefilter("ignore")
    cases = node.collect_testcases(None)
    for case in cases:
        folder = os.path.join(out, case.name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        if "--with-data" in sys.argv and case.data_sets:
            write_data(folder, case)
    print(f"onnx {onnx.__version__}: wrote {len(cases)} node cases to {out}")


if __name__ == "__main__":
    main()
