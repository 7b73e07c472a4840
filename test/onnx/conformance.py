#!/usr/bin/env python3
"""Compile and run ONNX backend test cases with kiln; compare with output_*.pb.

For each case folder (model.onnx + test_data_set_0/{input,output}_N.pb):
`kiln compile` (input shapes come from the .pb inputs), convert the inputs
to .npy, `kiln run`, compare every output with the reference (rtol 1e-3,
atol 1e-7, NaNs must match). The expected file lists the cases (SUITE/CASE)
that must pass numerically; a listed case that fails is a regression and
makes this script exit 1. --update rewrites it; --report writes each failure
with its first error line.
"""
import argparse
import concurrent.futures as cf
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

RTOL, ATOL = 1e-3, 1e-7


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def first_error(stderr, rc):
    lines = [l for l in stderr.splitlines() if l.strip()]
    return " ".join(lines[:2])[:300] if lines else f"rc={rc}"


def run_case(kiln, case_dir):
    model = os.path.join(case_dir, "model.onnx")
    data = os.path.join(case_dir, "test_data_set_0")
    if not os.path.isdir(data):
        return False, "no test_data_set_0"
    graph = onnx.load(model, load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    in_infos = [i for i in graph.input if i.name not in inits]
    in_names = [i.name for i in in_infos]
    out_names = [o.name for o in graph.output]
    inputs, outputs = [], []
    for k in range(len(in_names)):
        p = os.path.join(data, f"input_{k}.pb")
        if not os.path.exists(p):
            break
        try:
            arr = load_pb(p)[1]
        except Exception as e:  # sequences, optionals
            return False, f"input not a tensor: {e}"[:200]
        # Some cases store a declared scalar as [1]: feed the declared shape.
        dims = in_infos[k].type.tensor_type.shape.dim
        if in_infos[k].type.tensor_type.HasField("shape") and all(
                d.HasField("dim_value") for d in dims):
            declared = tuple(d.dim_value for d in dims)
            if declared != arr.shape and int(np.prod(declared)) == arr.size:
                arr = arr.reshape(declared)
        inputs.append(arr)
    for k in range(len(out_names)):
        p = os.path.join(data, f"output_{k}.pb")
        try:
            outputs.append(load_pb(p)[1])
        except Exception as e:
            return False, f"output not a tensor: {e}"[:200]
    with tempfile.TemporaryDirectory() as tmp:
        art = os.path.join(tmp, "m.kiln")
        cmd = [kiln, "compile", model, "-o", art]
        for name, arr in zip(in_names, inputs):
            if arr.ndim:
                cmd += ["--input-shape", f"{name}=" + "x".join(map(str, arr.shape))]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return False, "compile timeout"
        if p.returncode < 0 or p.returncode > 123:
            return False, f"CRASH compile rc={p.returncode}: {p.stderr.strip()[-300:]}"
        if p.returncode:
            return False, "compile: " + first_error(p.stderr, p.returncode)
        cmd = [kiln, "run", art, "--output-dir", tmp]
        for name, arr in zip(in_names, inputs):
            f = os.path.join(tmp, f"in_{len(cmd)}.npy")
            np.save(f, np.array(arr, order="C"))  # keeps 0-d (ascontiguousarray does not)
            cmd += ["--input", f"{name}={f}"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return False, "run timeout"
        if p.returncode < 0 or p.returncode > 123:
            return False, f"CRASH run rc={p.returncode}: {p.stderr.strip()[-300:]}"
        if p.returncode:
            return False, "run: " + first_error(p.stderr, p.returncode)
        for name, ref in zip(out_names, outputs):
            got = np.load(os.path.join(tmp, f"{name}.npy"))
            if got.shape != ref.shape:
                return False, f"output '{name}' shape {got.shape} != {ref.shape}"
            if ref.dtype.kind in "fc":
                ok = np.allclose(got.astype(np.float64), ref.astype(np.float64),
                                 rtol=RTOL, atol=ATOL, equal_nan=True)
            else:
                ok = np.array_equal(got, ref)
            if not ok:
                err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))
                return False, f"output '{name}' differs (max abs error {err:.3g})"
    return True, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--suite", action="append", required=True, help="NAME=DIR")
    ap.add_argument("--expected", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--report")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    cases = []
    for spec in args.suite:
        name, _, folder = spec.partition("=")
        for case in sorted(os.listdir(folder)):
            if os.path.isfile(os.path.join(folder, case, "model.onnx")):
                cases.append((f"{name}/{case}", os.path.join(folder, case)))
    results = {}
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_case, args.kiln, d): c for c, d in cases}
        for f in cf.as_completed(futures):
            try:
                results[futures[f]] = f.result()
            except Exception as e:  # a reference the harness cannot read
                results[futures[f]] = (False, f"harness: {e}"[:200])

    suites = {}
    for case, (ok, _) in results.items():
        s = suites.setdefault(case.split("/")[0], [0, 0])
        s[0] += ok
        s[1] += 1
    for s, (ok, n) in sorted(suites.items()):
        print(f"{s}: {ok}/{n} pass numerically ({100.0 * ok / n:.1f}%)")
    crashes = [c for c, (ok, m) in results.items() if m.startswith("CRASH")]
    for c in sorted(crashes):
        print(f"CRASH: {c}: {results[c][1]}")
    if args.report:
        with open(args.report, "w") as f:
            for c in sorted(results):
                if not results[c][0]:
                    f.write(f"{c}\t{results[c][1]}\n")
    passing = sorted(c for c, (ok, _) in results.items() if ok)
    if args.update:
        with open(args.expected, "w") as f:
            f.write("\n".join(passing) + "\n")
        print(f"wrote {len(passing)} cases to {args.expected}")
        return 0
    expected = set()
    if os.path.exists(args.expected):
        with open(args.expected) as f:
            expected = {l.strip() for l in f if l.strip()}
    regressions = sorted(c for c in expected if c in results and not results[c][0])
    for c in regressions:
        print(f"REGRESSION: {c}: {results[c][1]}")
    new = len([c for c in passing if c not in expected])
    if new:
        print(f"{new} case(s) now pass but are not in the expected list; run with --update")
    return 1 if regressions or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
