#!/usr/bin/env python3
"""One Llama decode step at f32, f16 and with block-quantized weights
(Kiln's `--quantize-weights=int8|int4`), next to onnxruntime (f32) and
llama.cpp (f32, f16, Q8_0, Q4_0) on the same weights, at 1 and 2 threads,
the peers alternated in each round: milliseconds per token and the rate at
which each step reads its weights.

The model is issue 19's (test/models/export_hf.py --size decode: a
transformers LlamaForCausalLM of 156M parameters, hidden 1024, 8 layers,
GQA 16/4, vocab 32000) taking one token after a 256-token cache, exported
by the TorchScript exporter and saved as a checkpoint (--checkpoint) that
bench/hf_to_gguf.py writes as GGUFs; its weights are far larger than the
caches, so a step costs the bytes it reads. Kiln's weight bytes per step
are the artifact's weights (`kiln inspect --weights`) less the embedding
table, of which a step reads one row. llama.cpp's step is timed by
bench/llamacpp_decode.py (its KV cache grows from 256 to 256 + steps).
Logits are compared with onnxruntime's f32 (the half and quantized models'
difference is their precision's).

usage: decode.py [--threads 1,2] [--rounds 3] [--iterations 30] [--workdir DIR]
                 [--bandwidth GBPS] [--no-llamacpp]
Needs .venv-exporter to export the model (once, into --workdir), this
venv's onnxruntime, and for llama.cpp .venv-llamacpp
(bench/requirements-llamacpp.txt). --bandwidth (bench/read_bandwidth.c's
number) adds the read rate as a fraction of it.
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
LLAMACPP_PY = os.path.join(ROOT, ".venv-llamacpp", "bin", "python")


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


def llamacpp_times(gguf, threads, steps):
    out = subprocess.run([LLAMACPP_PY, os.path.join(ROOT, "bench", "llamacpp_decode.py"), gguf,
                          "--threads", str(threads), "--steps", str(steps)], check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["median_ms"], r["max_ms"]


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
    ap.add_argument("--no-llamacpp", action="store_true")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-decode-bench-")
    stem = os.path.join(work, NAME)
    if not os.path.exists(stem + ".hf"):
        subprocess.run([args.exporter_python, os.path.join(ROOT, "test", "models", "export_hf.py"),
                        work, "--size", "decode", "--seq", "256", "--only", "llama_sdpa_decode",
                        "--exporter", "ts", "--checkpoint"], check=True)
    entry = json.load(open(os.path.join(work, "manifest.json")))[NAME]
    files = {i: f"{stem}.{i}.npy" for i in entry["inputs"]}
    feeds = {i: np.load(f) for i, f in files.items()}
    inputs = [a for i, f in files.items() for a in ("--input", f"{i}={f}")]
    logits = entry["outputs"][0]
    ref = ort_session(stem + ".onnx", 2).run([logits], feeds)[0]

    # Kiln's f16 model: the same export with half weights and inputs.
    half = stem + ".f16.onnx"
    if not os.path.exists(half):
        npys = [a for i, f in files.items() if np.load(f).dtype == np.float32
                for a in ("--npy", f, f"{stem}.f16.{i}.npy")]
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "Fusion", "Inputs", "to_half.py"),
                        stem + ".onnx", half, *npys], check=True)
    half_inputs = []
    for i, f in files.items():
        h = f"{stem}.f16.{i}.npy"
        half_inputs += ["--input", f"{i}={h if os.path.exists(h) else f}"]

    variants = [("f32", stem + ".onnx", [], inputs), ("f16", half, [], half_inputs),
                ("int8", stem + ".onnx", ["--quantize-weights=int8"], inputs),
                ("int4", stem + ".onnx", ["--quantize-weights=int4"], inputs)]
    prepared = []
    for label, onnx_path, flags, ins in variants:
        art = f"{stem}.{label}.kiln"
        if not os.path.exists(art):
            subprocess.run([args.kiln, "compile", onnx_path, "-o", art, *flags], check=True)
        out_dir = f"{stem}.{label}.out"
        subprocess.run([args.kiln, "run", art, *ins, "--output-dir", out_dir], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(os.path.join(out_dir, logits + ".npy")).astype(np.float32)
        diff = float(np.abs(got - ref).max())
        agree = float((got.reshape(-1, got.shape[-1]).argmax(-1) ==
                       ref.reshape(-1, ref.shape[-1]).argmax(-1)).mean())
        prepared.append((label, art, ins, weight_bytes(args.kiln, art), diff, agree))

    ggufs = []
    if not args.no_llamacpp and os.path.exists(LLAMACPP_PY):
        for label, kind in (("f32", "f32"), ("f16", "f16"), ("int8", "q8_0"), ("int4", "q4_0")):
            path = f"{stem}.{kind}.gguf"
            if not os.path.exists(path):
                subprocess.run([LLAMACPP_PY, os.path.join(ROOT, "bench", "hf_to_gguf.py"),
                                stem + ".hf", path, "--type", kind], check=True)
            ggufs.append((label, kind, path))

    threads = [int(t) for t in args.threads.split(",")]
    kiln_runs, ort_runs, cpp_runs = {}, {}, {}
    for _ in range(args.rounds):
        for t in threads:
            for label, art, ins, _, _, _ in prepared:
                kiln_runs.setdefault((label, t), []).append(
                    kiln_times(args.kiln, art, ins, t, args.iterations, warmup=3)[0])
            for label, kind, path in ggufs:
                cpp_runs.setdefault((label, t), []).append(
                    llamacpp_times(path, t, args.iterations)[0])
            ort_runs.setdefault(t, []).append(
                ort_times(ort_session(stem + ".onnx", t), feeds, args.iterations, warmup=3)[0])
    rows = []
    f32_bytes = prepared[0][3]

    def span(ms):
        ms = sorted(ms)
        return f"{ms[0]:.2f}-{ms[-1]:.2f}"

    for t in threads:
        om = min(ort_runs[t])
        rows.append(["onnxruntime f32", t, span(ort_runs[t]), f"{f32_bytes / om / 1e6:.1f}", "",
                     "", "0", "1.00"])
        for label, art, _, nbytes, diff, agree in prepared:
            km = min(kiln_runs[(label, t)])
            rate = nbytes / km / 1e6
            frac = f"{rate / args.bandwidth:.2f}" if args.bandwidth else ""
            cpp = [r for r in ggufs if r[0] == label]
            vs = f"{min(cpp_runs[(label, t)]) / km:.2f}" if cpp else ""
            rows.append([f"Kiln {label}", t, span(kiln_runs[(label, t)]), f"{rate:.1f}", frac,
                         vs, f"{diff:.1e}", f"{agree:.2f}"])
            if cpp:
                rows.append([f"llama.cpp {cpp[0][1]}", t, span(cpp_runs[(label, t)]), "", "", "",
                             "", ""])
    print(f"\n{NAME}: weights a Kiln step reads: "
          + ", ".join(f"{l} {b / 1e6:.0f} MB" for l, _, _, b, _, _ in prepared)
          + f"; medians of {args.rounds} rounds x {args.iterations} steps (best-worst round)")
    table(rows, ["", "threads", "ms / token", "weight GB/s", "of read rate",
                 "llama.cpp / Kiln (best)", "max |logit - ort f32|", "argmax = ort"])


if __name__ == "__main__":
    main()
