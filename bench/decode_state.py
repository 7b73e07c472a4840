#!/usr/bin/env python3
"""Decode step time with the KV cache kept in the session vs passed as inputs.

Exports Hugging Face's LlamaForCausalLM (export_hf.py --size bench: hidden
512, 4 layers, 2 K/V heads of 64; eager attention, TorchScript, lengths
dynamic; or `--onnx` another decode-step export with input_ids,
attention_mask and past_* inputs, such as DeepSeek-V3's) as a decode
step with past_key_values inputs and present outputs, then at each cache
length P in `--lengths`, alternating for `--rounds` rounds, times one
decode step (1 new token after P cached ones) three ways:

- state: compiled with `--max-context` (the largest P + 16), the caches
  kept in the session (C API through ctypes): the step appends its entries
  in place; after each timed step the session is rewound to P, so every
  step sees P entries. The caches are filled by chunked prefill first.
- inputs: the same ONNX file compiled without it, the caches passed in as
  past_* inputs and copied out as present_* outputs every step.
- onnxruntime on the same ONNX file, caches as inputs (I/O binding).

Prints median ms per round's best with the range over rounds, the ratio
state / inputs, and how the step time grows from the first length to the
last (the issue's goal: the state path grows only with attention's own
reads of the cache).

usage: bench/decode_state.py [--kiln build/bin/kiln]
                             [--lib build/lib/libkiln_runtime.so]
                             [--lengths 256,4096] [--threads 2] [--rounds 3]
                             [--iterations 20] [--onnx MODEL.onnx]
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ort_session, ort_times, table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p)]


class Session:
    """A kiln session through the C API; tensors keep their arrays alive."""

    def __init__(self, lib, art):
        self.lib, self.keep = lib, []
        self.m, self.s = ctypes.c_void_p(), ctypes.c_void_p()
        self.check(lib.kiln_model_open(art.encode(), ctypes.byref(self.m)))
        self.check(lib.kiln_session_create(self.m, b"cpu", ctypes.byref(self.s)))

    def check(self, status):
        if status:
            raise RuntimeError(self.lib.kiln_last_error().decode())

    def tensors(self, named):
        out = []
        for name, a in named:
            shape = (ctypes.c_int64 * a.ndim)(*a.shape)
            self.keep += [a, shape]
            out.append(Tensor(name.encode() if name else None, 7 if a.dtype == np.int64 else 0,
                              a.ndim, shape, a.ctypes.data))
        return (Tensor * len(out))(*out)

    def prepare(self, inputs, outputs):
        """A run of these arrays, bound once (what a decode loop does)."""
        self.keep = []
        ins, outs = self.tensors(inputs), self.tensors([(None, o) for o in outputs])
        return lambda: self.check(self.lib.kiln_session_run(self.s, ins, len(inputs), outs,
                                                            len(outputs)))


def best_ms(fn, iterations, after=None):
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
        if after:
            after()
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "lib", "libkiln_runtime.so"))
    ap.add_argument("--lengths", default="256,4096")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--onnx", help="a decode-step export (default: export_hf.py --size bench)")
    args = ap.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    os.environ["KILN_NUM_THREADS"] = str(args.threads)
    tmp = tempfile.mkdtemp(prefix="kiln-decode-state-")
    model = args.onnx
    if not model:
        subprocess.run([os.path.join(ROOT, ".venv-exporter", "bin", "python"),
                        os.path.join(ROOT, "test", "models", "export_hf.py"), tmp, "--only",
                        "llama_eager_decode", "--exporter", "ts", "--size", "bench",
                        "--dynamic-axes"], check=True, capture_output=True)
        model = os.path.join(tmp, "llama_eager_decode_ts_dyn.onnx")
    state_art, inputs_art = os.path.join(tmp, "state.kiln"), os.path.join(tmp, "inputs.kiln")
    subprocess.run([args.kiln, "compile", model, "-o", state_art,
                    f"--max-context={max(lengths) + 16}"], check=True)
    subprocess.run([args.kiln, "compile", model, "-o", inputs_art], check=True)

    proto = onnx.load(model)
    pasts = [i for i in proto.graph.input if i.name.startswith("past")]
    # Each past's own heads and width (DeepSeek's latent and RoPE caches differ).
    dims = [[d.dim_value for d in i.type.tensor_type.shape.dim] for i in pasts]
    vocab = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim][-1]
    lib = ctypes.CDLL(args.lib)
    lib.kiln_last_error.restype = ctypes.c_char_p
    lib.kiln_session_state_length.restype = ctypes.c_int64
    state, inputs = Session(lib, state_art), Session(lib, inputs_art)
    ort = ort_session(model, args.threads)
    rng = np.random.default_rng(0)
    token = np.array([[7]], np.int64)
    logits = np.zeros((1, 1, vocab), np.float32)
    results = {p: {"state": [], "inputs": [], "onnxruntime": []} for p in lengths}
    for _ in range(args.rounds):
        for p in lengths:
            # State: chunked prefill to P, then steps rewound to P each time.
            lib.kiln_session_rewind(state.s, ctypes.c_int64(0))
            for start in range(0, p, 256):
                n = min(256, p - start)
                ids = rng.integers(0, vocab, (1, n), dtype=np.int64)
                mask = np.ones((1, start + n), np.int64)
                state.prepare([("input_ids", ids), ("attention_mask", mask)],
                              [np.zeros((1, n, vocab), np.float32)])()
            mask = np.ones((1, p + 1), np.int64)
            step = state.prepare([("input_ids", token), ("attention_mask", mask)], [logits])
            rewind = lambda: lib.kiln_session_rewind(state.s, ctypes.c_int64(p))
            step()
            rewind()
            results[p]["state"].append(best_ms(step, args.iterations, rewind))
            # Inputs: the caches in, the presents out.
            past = [rng.standard_normal((1, d[1], p, d[3])).astype(np.float32) for d in dims]
            presents = [np.zeros((1, d[1], p + 1, d[3]), np.float32) for d in dims]
            feeds = [("input_ids", token), ("attention_mask", mask)] + \
                [(i.name, a) for i, a in zip(pasts, past)]
            step = inputs.prepare(feeds, [logits] + presents)
            step()
            results[p]["inputs"].append(best_ms(step, args.iterations))
            results[p]["onnxruntime"].append(
                ort_times(ort, dict(feeds), args.iterations)[0])
    rows = []
    fmt = lambda v: f"{np.median(v):.3f} ({min(v):.3f}-{max(v):.3f})"
    for p in lengths:
        r = results[p]
        rows.append([p, fmt(r["state"]), fmt(r["inputs"]), fmt(r["onnxruntime"]),
                     f"{np.median(r['state']) / np.median(r['inputs']):.2f}",
                     f"{np.median(r['state']) / np.median(r['onnxruntime']):.2f}"])
    print(f"decode step, ms (median of rounds, range), {args.threads} threads, model "
          f"{os.path.basename(model)}")
    table(rows, ["cache", "state", "inputs", "onnxruntime", "state/inputs", "state/ort"])
    first, last = lengths[0], lengths[-1]
    for k in ["state", "inputs", "onnxruntime"]:
        print(f"{k}: {last} vs {first}: "
              f"{np.median(results[last][k]) / np.median(results[first][k]):.2f}x")


if __name__ == "__main__":
    main()
