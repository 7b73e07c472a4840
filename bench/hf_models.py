#!/usr/bin/env python3
"""Models built from Hugging Face `transformers`' own classes
(test/models/export_hf.py --size bench: hidden 512, 4 layers, a 128-token
prompt, or one decode step over a 128-token cache), exported by both torch
exporters, compiled by Kiln and run next to onnxruntime at 1 and 2 threads,
the peers alternated in each round.

With --busy every measurement is repeated while a busy-loop process holds
CPU 0 (a shared server or container): Kiln at 2 threads should then cost
what it costs at 1 thread (median and p90), not wait for a worker the OS
does not run.

usage: hf_models.py [--threads 1,2] [--rounds 3] [--iterations 100] [--busy]
                    [--only NAME,...] [--workdir DIR] [--seq 128]
Needs .venv-exporter (torch, onnxscript, transformers) to export the models
and this venv's onnxruntime. Prints, per model and thread count, Kiln's and
onnxruntime's median and p90 in ms (the best median of the rounds, and the
p90 of that round), their ratio, and the largest difference between the
two outputs.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import busy_loop, kiln_times, ort_session, ort_times, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (export name, what the row says)
MODELS = [
    ("llama_sdpa", "Llama (GQA), sdpa"),
    ("qwen3_sdpa", "Qwen3, sdpa"),
    ("phi3_sdpa", "Phi-3 (fused projections), sdpa"),
    ("bert_sdpa", "BERT encoder, sdpa"),
    ("mixtral_sdpa_batched_mm", "Mixtral, batched_mm experts"),
    ("mixtral_sdpa_eager", "Mixtral, eager experts"),
    ("qwen2_moe_sdpa_batched_mm", "Qwen2-MoE, batched_mm experts"),
    ("deepseek_v3_sdpa_batched_mm", "DeepSeek-V3 (MLA + MoE), batched_mm"),
    ("llama_sdpa_decode", "Llama decode step (128 cached)"),
    ("deepseek_v3_sdpa_decode", "DeepSeek-V3 decode step (128 cached)"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--exporter-python", default=os.path.join(ROOT, ".venv-exporter", "bin",
                                                              "python"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--busy", action="store_true", help="also measure with CPU 0 busy")
    ap.add_argument("--only", default=None, help="comma-separated export names")
    ap.add_argument("--exporters", default="dynamo,ts")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-hf-bench-")
    models = [m for m in MODELS if not args.only or m[0] in args.only.split(",")]
    exporters = args.exporters.split(",")
    threads = [int(t) for t in args.threads.split(",")]

    manifest_path = os.path.join(work, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    missing = [m for m, _ in models if not all(f"{m}_{e}" in manifest for e in exporters)]
    if missing:
        cmd = [args.exporter_python, os.path.join(ROOT, "test", "models", "export_hf.py"), work,
               "--size", "bench", "--seq", str(args.seq), "--only", *missing]
        for e in exporters:
            cmd += ["--exporter", e]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        manifest = json.load(open(manifest_path))

    prepared = []
    for name, what in models:
        for exporter in exporters:
            full = f"{name}_{exporter}"
            entry = manifest.get(full)
            if not entry or "export_failed" in entry:
                print(f"{full}: not exported ({entry.get('export_failed', '?') if entry else '?'})")
                continue
            onnx_path = os.path.join(work, full + ".onnx")
            art = os.path.join(work, full + ".kiln")
            if not os.path.exists(art):
                subprocess.run([args.kiln, "compile", onnx_path, "-o", art], check=True)
            files = {i: os.path.join(work, f"{full}.{i}.npy") for i in entry["inputs"]}
            feeds = {i: np.load(f) for i, f in files.items()}
            inputs = [a for i, f in files.items() for a in ("--input", f"{i}={f}")]
            out_dir = os.path.join(work, full + ".out")
            subprocess.run([args.kiln, "run", art, *inputs, "--output-dir", out_dir], check=True)
            first = entry["outputs"][0]
            got = np.load(os.path.join(out_dir, first + ".npy"))
            ref = ort_session(onnx_path, 1).run([first], feeds)[0]
            diff = float(np.abs(got - ref).max())
            prepared.append((f"{what} ({exporter})", onnx_path, art, inputs, feeds, diff))

    def measure(label):
        kiln_runs, ort_runs = {}, {}
        for _ in range(args.rounds):
            for row, onnx_path, art, inputs, feeds, diff in prepared:
                for t in threads:
                    kiln_runs.setdefault((row, t), []).append(
                        kiln_times(args.kiln, art, inputs, t, args.iterations))
                    ort_runs.setdefault((row, t), []).append(
                        ort_times(ort_session(onnx_path, t), feeds, args.iterations))
        rows = []
        for row, onnx_path, art, inputs, feeds, diff in prepared:
            for t in threads:
                km, kp = min(kiln_runs[(row, t)])  # the round with the best median
                om, op = min(ort_runs[(row, t)])
                rows.append([row, t, f"{km:.3f}", f"{kp:.3f}", f"{om:.3f}", f"{op:.3f}",
                             f"{km / om:.2f}", f"{diff:.1e}"])
        print(f"\n{label}: best median of {args.rounds} rounds x {args.iterations} runs "
              "(and that round's p90)")
        table(rows, ["model", "threads", "kiln median ms", "kiln p90", "ort median ms",
                     "ort p90", "kiln/ort", "max |kiln - ort|"])

    measure("idle machine")
    if args.busy:
        spinner = busy_loop()
        try:
            time.sleep(0.5)
            measure("CPU 0 busy (a busy-loop process pinned to it)")
        finally:
            spinner.kill()


if __name__ == "__main__":
    main()
