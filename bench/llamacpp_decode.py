#!/usr/bin/env python3
"""Times llama.cpp's decode step on a GGUF (bench/decode.py's peer): fills
the KV cache with --cache tokens in one prompt evaluation, then evaluates
--steps single tokens, one llama_decode each, and prints JSON with the
median, min and max milliseconds per step. Runs in .venv-llamacpp.

usage: llamacpp_decode.py MODEL.gguf [--threads 2] [--cache 256] [--steps 32]
"""
import argparse
import json
import time

from llama_cpp import Llama


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=int, default=256)
    ap.add_argument("--steps", type=int, default=32)
    args = ap.parse_args()
    llm = Llama(model_path=args.gguf, n_ctx=args.cache + args.steps + 8, n_batch=512,
                n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    llm.eval([1 + i % 1000 for i in range(args.cache)])
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        llm.eval([7 + i])
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(json.dumps({"median_ms": times[len(times) // 2], "min_ms": times[0],
                      "max_ms": times[-1]}))


if __name__ == "__main__":
    main()
