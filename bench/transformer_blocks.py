#!/usr/bin/env python3
"""A Llama-style decoder block (MHA and GQA), MoE blocks and DeepSeek-V3-style
prefill and decode steps (exported
from torch by test/models/export_blocks.py): Kiln (fused) vs Kiln unfused
(--no-fusion) vs onnxruntime (all graph optimizations) on the same thread
count, plus Kiln's compile time and peak compiler RSS. Also checks Kiln's
outputs against onnxruntime's.

usage: bench/transformer_blocks.py [--kiln build/bin/kiln] [--threads N]
                                   [--iterations 20] [--workdir DIR]
                                   [--exporter-python .venv-exporter/bin/python]
                                   [--only NAME,...]

With --exporter-python (a torch 2.x with onnxscript) the Llama blocks are
also exported by the current exporter at opset 18 (Gemm linear layers,
Reciprocal(Sqrt), scaled_dot_product_attention decomposed) and measured
the same way ("(torch.export)" rows).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import median_ms, run_measured, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = [("llama_block", "Llama decoder block (hidden 512, 8 heads, seq 128)"),
          ("llama_gqa_block", "Llama block with GQA (8 query heads, 2 K/V heads)"),
          ("moe_block", "MoE block (8 SwiGLU experts of 1024, top-2, seq 128)"),
          ("moe_sparse_block", "the same MoE in Hugging Face's sparse form"),
          ("qwen_moe", "Qwen-MoE (top-4 of 8, gated shared expert)"),
          ("deepseek_moe", "DeepSeek-V3 MoE (sigmoid, bias, group-limited top-2, shared)"),
          ("deepseek_sparse_moe", "the same MoE in Hugging Face's sparse form"),
          ("deepseek_block", "DeepSeek-V3-style block (MLA + that MoE, seq 128)"),
          ("deepseek_decode", "its decode step, absorbed MLA, 4095 cached + 1"),
          ("deepseek_naive_decode", "the same step written naively (K/V from the latent)")]
# Inputs beyond x (saved by export_blocks.py as <name>.<input>.npy).
EXTRA_INPUTS = {"deepseek_decode": ["past_kv", "past_pe"],
                "deepseek_naive_decode": ["past_kv", "past_pe"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--exporter-python", default=None)
    ap.add_argument("--only", default=None, help="comma-separated model names")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-bench-")
    os.makedirs(work, exist_ok=True)
    subprocess.check_call([sys.executable, os.path.join(ROOT, "test", "models", "export_blocks.py"),
                           work])
    # The decode step over a long cache (the latent cache is what it reads).
    subprocess.check_call([sys.executable, os.path.join(ROOT, "test", "models", "export_blocks.py"),
                           work, "--only", "decode", "--seq", "4096"])
    models = [(name, what, work) for name, what in MODELS]
    if args.exporter_python:
        current = os.path.join(work, "torch_export")
        for only in ("llama", "gqa"):
            subprocess.check_call([args.exporter_python,
                                   os.path.join(ROOT, "test", "models", "export_blocks.py"),
                                   current, "--opset", "18", "--only", only],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        models += [(name, what + " (torch.export)", current) for name, what in
                   (("llama_block", "Llama block"), ("llama_gqa_block", "Llama GQA block"),
                    ("llama_gqa_sdpa_block", "Llama GQA, scaled_dot_product_attention"))]
    if args.only:
        models = [m for m in models if m[0] in args.only.split(",")]
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads))
    rows = []
    for name, what, work in models:
        onnx_path = os.path.join(work, name + ".onnx")
        art = os.path.join(work, name + ".kiln")
        compile_s, compile_rss, _ = run_measured([args.kiln, "compile", onnx_path, "-o", art])
        files = {"x": os.path.join(work, name + ".input.npy")}
        files.update({n: os.path.join(work, f"{name}.{n}.npy") for n in EXTRA_INPUTS.get(name, [])})
        feeds = {n: np.load(f) for n, f in files.items()}
        inputs = [a for n, f in files.items() for a in ("--input", f"{n}={f}")]
        out_dir = os.path.join(work, name + ".out")
        subprocess.check_call([args.kiln, "run", art, *inputs, "--output-dir", out_dir], env=env)
        _, _, bench = run_measured([args.kiln, "bench", art, *inputs, "--json",
                                    "--iterations", str(args.iterations)], env=env)
        kiln_ms = json.loads(bench)["median_ms"]
        # The unfused path: the same model as the graph wrote it.
        unfused = os.path.join(work, name + ".unfused.kiln")
        # (The sparse MoE form has data-dependent shapes: only fused.)
        unfused_ms = None
        if subprocess.run([args.kiln, "compile", onnx_path, "-o", unfused, "--no-fusion"],
                          capture_output=True).returncode == 0:
            _, _, bench = run_measured([args.kiln, "bench", unfused, *inputs, "--json",
                                        "--iterations", str(args.iterations)], env=env)
            unfused_ms = json.loads(bench)["median_ms"]
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        ref = sess.run(None, feeds)[0]
        err = float(np.abs(np.load(os.path.join(out_dir, "y.npy")) - ref).max())
        ort_ms = median_ms(lambda: sess.run(None, feeds), iterations=args.iterations)
        rows.append([what, f"{kiln_ms:.2f}", f"{unfused_ms:.2f}" if unfused_ms else "n/a",
                     f"{ort_ms:.2f}", f"{kiln_ms / ort_ms:.2f}",
                     f"{kiln_ms / unfused_ms:.2f}" if unfused_ms else "n/a",
                     f"{compile_s:.2f}", f"{compile_rss:.0f}", f"{err:.1e}"])
    print(f"threads: {args.threads} (KILN_NUM_THREADS, onnxruntime intra_op_num_threads)")
    table(rows, ["model", "kiln ms", "kiln --no-fusion ms", "onnxruntime ms", "kiln/ort",
                 "kiln/unfused", "compile s", "compile RSS MiB", "max |kiln - ort|"])


if __name__ == "__main__":
    main()
