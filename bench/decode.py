#!/usr/bin/env python3
"""One Llama decode step at f32 and with block-quantized weights (Kiln's
`--quantize-weights=int8|int4`), next to onnxruntime on the same export,
at 1 and 2 threads, alternated rounds: milliseconds per token and the rate
at which each step reads its weights.

The model is issue 19's (test/models/export_hf.py --size decode: a
transformers LlamaForCausalLM of 156M parameters, hidden 1024, 8 layers,
GQA 16/4, vocab 32000) taking one token after a 256-token cache, exported
by the TorchScript exporter; its weights are far larger than the caches,
so a step costs the bytes it reads. Weight bytes per step are the
artifact's weights (`kiln inspect --weights`) less the embedding table, of which a
step reads one row. Logits are compared with onnxruntime's f32 (the
quantized models' difference is the quantization's, stated).

usage: decode.py [--threads 1,2] [--rounds 3] [--iterations 30] [--workdir DIR]
                 [--bandwidth GBPS]
Needs .venv-exporter to export the model (once, into --workdir) and this
venv's onnxruntime. --bandwidth (bench/read_bandwidth.c's number) adds the
read rate as a fraction of it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import kiln_times, ort_session, ort_times, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "llama_sdpa_decode_ts"


def weight_bytes(kiln, art):
    """Bytes of the artifact's weights a decode step reads (all but the
    embedding table, which it gathers one row of)."""
    out = subprocess.run([kiln, "inspect", art, "--weights"], check=True, capture_output=True,
                         text=True).stdout
    total = 0
    for line in out.splitlines():
        m = re.match(r"\s+(\S+): (\d+) bytes$", line)
        if m and "embed_tokens" not in m.group(1):
            total += int(m.group(2))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--exporter-python", default=os.path.join(ROOT, ".venv-exporter", "bin",
                                                              "python"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--bandwidth", type=float, default=None,
                    help="measured read rate in GB/s (bench/read_bandwidth.c)")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-decode-bench-")
    onnx_path = os.path.join(work, NAME + ".onnx")
    if not os.path.exists(onnx_path):
        subprocess.run([args.exporter_python, os.path.join(ROOT, "test", "models", "export_hf.py"),
                        work, "--size", "decode", "--seq", "256", "--only", "llama_sdpa_decode",
                        "--exporter", "ts"], check=True)
    entry = json.load(open(os.path.join(work, "manifest.json")))[NAME]
    files = {i: os.path.join(work, f"{NAME}.{i}.npy") for i in entry["inputs"]}
    feeds = {i: np.load(f) for i, f in files.items()}
    inputs = [a for i, f in files.items() for a in ("--input", f"{i}={f}")]
    logits = entry["outputs"][0]
    ref = ort_session(onnx_path, 2).run([logits], feeds)[0]

    variants = [("f32", []), ("int8", ["--quantize-weights=int8"]),
                ("int4", ["--quantize-weights=int4"])]
    prepared = []
    for label, flags in variants:
        art = os.path.join(work, f"{NAME}.{label}.kiln")
        if not os.path.exists(art):
            subprocess.run([args.kiln, "compile", onnx_path, "-o", art, *flags], check=True)
        out_dir = os.path.join(work, f"{NAME}.{label}.out")
        subprocess.run([args.kiln, "run", art, *inputs, "--output-dir", out_dir], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(os.path.join(out_dir, logits + ".npy"))
        diff = float(np.abs(got - ref).max())
        agree = float((got.reshape(-1, got.shape[-1]).argmax(-1) ==
                       ref.reshape(-1, ref.shape[-1]).argmax(-1)).mean())
        prepared.append((label, art, weight_bytes(args.kiln, art), diff, agree))

    threads = [int(t) for t in args.threads.split(",")]
    kiln_runs, ort_runs = {}, {}
    for _ in range(args.rounds):
        for label, art, _, _, _ in prepared:
            for t in threads:
                kiln_runs.setdefault((label, t), []).append(
                    kiln_times(args.kiln, art, inputs, t, args.iterations, warmup=3))
        for t in threads:
            ort_runs.setdefault(t, []).append(
                ort_times(ort_session(onnx_path, t), feeds, args.iterations, warmup=3))
    rows = []
    f32_bytes = prepared[0][2]
    for t in threads:
        om = sorted(m for m, _ in ort_runs[t])
        rows.append([f"onnxruntime f32", t, f"{om[0]:.2f}-{om[-1]:.2f}",
                     f"{f32_bytes / om[0] / 1e6:.1f}", "", "1.00", "0", "1.00"])
        for label, art, nbytes, diff, agree in prepared:
            km = sorted(m for m, _ in kiln_runs[(label, t)])
            rate = nbytes / km[0] / 1e6
            frac = f"{rate / args.bandwidth:.2f}" if args.bandwidth else ""
            rows.append([f"Kiln {label}", t, f"{km[0]:.2f}-{km[-1]:.2f}", f"{rate:.1f}", frac,
                         f"{km[0] / om[0]:.2f}", f"{diff:.1e}", f"{agree:.2f}"])
    print(f"\n{NAME}: weights read per step f32 {f32_bytes / 1e6:.0f} MB, "
          + ", ".join(f"{l} {b / 1e6:.0f} MB" for l, _, b, _, _ in prepared[1:])
          + f"; medians of {args.rounds} rounds x {args.iterations} steps (best-worst)")
    table(rows, ["", "threads", "ms / token", "weight GB/s", "of read rate",
                 "vs ort (best)", "max |logit - ort|", "argmax = ort"])


if __name__ == "__main__":
    main()
