#!/usr/bin/env python3
"""Checks the models test/models/export_hf.py wrote: each compiles with
`kiln compile`, every attention layer is one `kiln.attention` and every MoE
layer one `kiln.moe` (counted in `--emit=graph`), and `kiln run` matches
torch's outputs (rtol 1e-3, atol 1e-4 unless given). Dynamic-axes exports
(their manifest entry lists `dims`) are compiled with `--dim NAME=N` at the
example's sizes.

usage: check_hf.py KILN DIR [--only NAME ...] [--rtol 1e-3] [--atol 1e-4]
Prints one line per model: name, fused-op counts (found/expected), the
largest error relative to the tolerance, and PASS/FAIL with the reason.
Models the exporter could not write are listed as "not exported" (the
exporter's reason); the last line counts each. Exit status 1 when any
exported model fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def dim_flags(entry):
    """--dim NAME=N for the named dims of a dynamic-axes export."""
    return [f"--dim={k}={v}" for k, v in sorted(entry.get("dims", {}).items())]


def compile_graph(kiln, onnx_path, flags=()):
    r = subprocess.run([kiln, "compile", onnx_path, "--emit=graph", *flags], capture_output=True,
                       text=True)
    return r.returncode, r.stdout, r.stderr


def fused_counts(graph):
    return {op: len(re.findall(r"\b%s\b" % re.escape(op), graph))
            for op in ("kiln.attention", "kiln.moe")}


def check(kiln, d, name, entry, rtol, atol):
    onnx_path = os.path.join(d, name + ".onnx")
    rc, graph, err = compile_graph(kiln, onnx_path, dim_flags(entry))
    if rc != 0:
        return "FAIL", f"compile --emit=graph failed: {err.strip().splitlines()[-1] if err.strip() else rc}", {}
    counts = fused_counts(graph)
    want = {"kiln.attention": entry["attention_layers"], "kiln.moe": entry["moe_layers"]}
    with tempfile.TemporaryDirectory() as tmp:
        art = os.path.join(tmp, "m.kiln")
        r = subprocess.run([kiln, "compile", onnx_path, "-o", art, *dim_flags(entry)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "FAIL", "compile failed: " + (r.stderr.strip().splitlines() or ["?"])[-1], counts
        cmd = [kiln, "run", art, "--output-dir", os.path.join(tmp, "out")]
        for i in entry["inputs"]:
            cmd += ["--input", f"{i}={os.path.join(d, f'{name}.{i}.npy')}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return "FAIL", "run failed: " + (r.stderr.strip().splitlines() or ["?"])[-1], counts
        worst = 0.0
        for o in entry["outputs"]:
            ref = np.load(os.path.join(d, f"{name}.torch.{o}.npy"))
            got = np.load(os.path.join(tmp, "out", o + ".npy"))
            if got.shape != ref.shape:
                return "FAIL", f"output {o}: shape {got.shape}, torch {ref.shape}", counts
            excess = np.abs(got.astype(np.float64) - ref) / (atol + rtol * np.abs(ref))
            worst = max(worst, float(np.nanmax(excess)) if excess.size else 0.0)
            if np.isnan(got).any() != np.isnan(ref).any():
                worst = float("inf")
    counts["error"] = worst
    problems = []
    for op, n in want.items():
        if counts[op] != n:
            problems.append(f"{op} {counts[op]}/{n}")
    if worst > 1.0:
        problems.append(f"error {worst:.3g}x tolerance")
    return ("FAIL" if problems else "PASS"), ", ".join(problems), counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kiln")
    ap.add_argument("dir")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    with open(os.path.join(args.dir, "manifest.json")) as f:
        manifest = json.load(f)
    failed = passed = skipped = 0
    for name in sorted(manifest):
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        entry = manifest[name]
        if "export_failed" in entry:
            print(f"{name:40s} not exported ({entry['export_failed'][:80]})")
            skipped += 1
            continue
        status, why, counts = check(args.kiln, args.dir, name, entry, args.rtol, args.atol)
        failed += status != "PASS"
        passed += status == "PASS"
        att = f"attention {counts.get('kiln.attention', '-')}/{entry['attention_layers']}"
        moe = f"moe {counts.get('kiln.moe', '-')}/{entry['moe_layers']}"
        err = f"err {counts['error']:.2g}" if "error" in counts else ""
        print(f"{name:40s} {att:14s} {moe:9s} {err:12s} {status} {why}", flush=True)
    print(f"{passed} passed, {failed} failed, {skipped} not exported")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
