#!/usr/bin/env python3
"""Compile and run ONNX backend test cases with kiln; compare with output_*.pb.

For each case folder (model.onnx + test_data_set_0/{input,output}_N.pb):
`kiln compile` (input shapes come from the .pb inputs), `kiln run` on the
.pb inputs (as .npy where a declared scalar is stored as [1]), compare every output with the reference (rtol 1e-3,
atol 1e-7, NaNs must match). Sizes decided by small integer inputs
(Reshape's shape, TopK's k, Range's bounds) are read per run; when an
output's shape depends on input values in another way (ReduceSum's axes,
Resize's scales, ...), or an op has no lowering for such a run-time
parameter (CumSum's axis), the case is
compiled again with the inputs of rank <= 1 frozen to the test's values (`kiln compile
--input-value`), the way an application fixes them for ahead-of-time
compilation; such passes are counted separately. The expected file lists the cases (SUITE/CASE)
that must pass numerically; a listed case that fails is a regression and
makes this script exit 1. --update rewrites it; --report writes each failure
with its first error line.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

import suites

RTOL, ATOL = 1e-3, 1e-7


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def bf16_fixup(pb_path, declared, tmp):
    """ONNX 1.12's test data stores bfloat16 tensors typed UINT16 (their bit
    patterns). For a BFLOAT16 model input this writes the same bytes typed
    BFLOAT16; returns the path to feed."""
    t = onnx.TensorProto()
    with open(pb_path, "rb") as f:
        t.ParseFromString(f.read())
    if declared != onnx.TensorProto.BFLOAT16 or t.data_type != onnx.TensorProto.UINT16:
        return pb_path
    t.data_type = onnx.TensorProto.BFLOAT16
    fixed = os.path.join(tmp, os.path.basename(pb_path))
    with open(fixed, "wb") as f:
        f.write(t.SerializeToString())
    return fixed


def bf16_bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def first_error(stderr, rc):
    lines = [l for l in stderr.splitlines() if l.strip()]
    return " ".join(lines[:2])[:300] if lines else f"rc={rc}"


def run_step(what, cmd):
    """Runs one kiln command; None on success, else the failure message."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return f"{what} timeout"
    if p.returncode < 0 or p.returncode > 123:
        return f"CRASH {what} rc={p.returncode}: {p.stderr.strip()[-300:]}"
    if p.returncode:
        return f"{what}: " + first_error(p.stderr, p.returncode)
    return None


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
        frozen = set()

        def compile_cmd():
            cmd = [kiln, "compile", model, "-o", art]
            for k, (name, arr) in enumerate(zip(in_names, inputs)):
                if name in frozen:
                    cmd += ["--input-value", f"{name}=" + os.path.join(data, f"input_{k}.pb")]
                elif arr.ndim:
                    cmd += ["--input-shape", f"{name}=" + "x".join(map(str, arr.shape))]
            return cmd

        err = run_step("compile", compile_cmd())
        if err and ("has dynamic shape" in err or "has no lowering" in err or
                    "depends on" in err):
            # Parameter-like inputs: vectors and scalars (shapes, axes, k,
            # Resize's scales).
            frozen = {n for n, a in zip(in_names, inputs) if a.ndim <= 1}
            if frozen:
                err = run_step("compile", compile_cmd())
        if err:
            return False, err
        cmd = [kiln, "run", art, "--output-dir", tmp]
        for k, (name, arr) in enumerate(zip(in_names, inputs)):
            if name in frozen:
                continue
            pb = os.path.join(data, f"input_{k}.pb")
            if load_pb(pb)[1].shape == arr.shape:
                # kiln run reads TensorProto files (bfloat16 included)
                f = bf16_fixup(pb, in_infos[k].type.tensor_type.elem_type, tmp)
            else:
                f = os.path.join(tmp, f"in_{len(cmd)}.npy")
                np.save(f, np.array(arr, order="C"))  # keeps 0-d (ascontiguousarray does not)
            cmd += ["--input", f"{name}={f}"]
        err = run_step("run", cmd)
        if err:
            return False, err
        out_types = [o.type.tensor_type.elem_type for o in graph.output]
        for name, ref, elem in zip(out_names, outputs, out_types):
            got = np.load(os.path.join(tmp, f"{name}.npy"))
            if elem == onnx.TensorProto.BFLOAT16 and ref.dtype == np.uint16:
                ref = bf16_bits_to_f32(ref)  # kiln writes bfloat16 widened to f32
            if got.shape != ref.shape:
                return False, f"output '{name}' shape {got.shape} != {ref.shape}"
            if elem == onnx.TensorProto.STRING:
                # kiln writes '<U' arrays; onnx reads bytes or str objects
                text = [r.decode() if isinstance(r, bytes) else str(r) for r in ref.flat]
                if got.ravel().tolist() != text:
                    return False, f"output '{name}' strings differ: {got.ravel().tolist()[:4]}"
                continue
            if ref.dtype.kind in "fc":
                ok = np.allclose(got.astype(np.float64), ref.astype(np.float64),
                                 rtol=RTOL, atol=ATOL, equal_nan=True)
            else:
                ok = np.array_equal(got, ref)
            if not ok:
                err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))
                return False, f"output '{name}' differs (max abs error {err:.3g})"
    return True, "with parameter inputs frozen (--input-value)" if frozen else ""


if __name__ == "__main__":
    sys.exit(suites.main(run_case, "pass numerically", __doc__,
                         plain_label="compiled once, nothing frozen"))
