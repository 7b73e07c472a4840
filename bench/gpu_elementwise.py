#!/usr/bin/env python3
"""Elementwise models on an NVIDIA GPU: Kiln's cuda target vs PyTorch.

Two steps, because the compiler needs LLVM 22 and the GPU machine has none:

  bench/gpu_elementwise.py prepare DIR [--kiln build/bin/kiln]
      writes the models (MLIR) and compiles each with --target=cuda:sm_90
  bench/gpu_elementwise.py measure DIR --runtime build/lib [--runs 50]
      on the GPU machine (python with torch): builds bench/run_model.c
      against libkiln_runtime, runs every artifact on device "cuda", checks
      the outputs against PyTorch on the same inputs, and times both

Reported per model: Kiln's kernel time (KILN_PROFILE: each launch timed
with a synchronize, so it includes the launch latency), the whole
kiln_session_run (inputs copied in, outputs out), PyTorch eager and
torch.compile (CUDA events), and Kiln's effective bandwidth.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (rows, cols, MLIR body over %a [rows x cols] and %b [cols], torch expression)
MODELS = {
    "silu_add_8192x4096": (8192, 4096, """
  %0 = kiln.binary add %a, %b : tensor<{R}x{C}xf32>, tensor<{C}xf32>
  %1 = kiln.unary silu %0 : tensor<{R}x{C}xf32>""", "torch.nn.functional.silu(a + b)"),
    "silu_add_exp_8192x4096": (8192, 4096, """
  %e = kiln.unary exp %b : tensor<{C}xf32>
  %0 = kiln.binary add %a, %e : tensor<{R}x{C}xf32>, tensor<{C}xf32>
  %1 = kiln.unary silu %0 : tensor<{R}x{C}xf32>""", "torch.nn.functional.silu(a + torch.exp(b))"),
    "silu_add_1000x999": (1000, 999, """
  %0 = kiln.binary add %a, %b : tensor<{R}x{C}xf32>, tensor<{C}xf32>
  %1 = kiln.unary silu %0 : tensor<{R}x{C}xf32>""", "torch.nn.functional.silu(a + b)"),
    "gelu_mul_1024x1024": (1024, 1024, """
  %0 = kiln.binary mul %a, %b : tensor<{R}x{C}xf32>, tensor<{C}xf32>
  %1 = kiln.unary gelu %0 : tensor<{R}x{C}xf32>""", "torch.nn.functional.gelu(a * b)"),
}


def prepare(args):
    os.makedirs(args.dir, exist_ok=True)
    for name, (r, c, body, _) in MODELS.items():
        src = os.path.join(args.dir, name + ".mlir")
        with open(src, "w") as f:
            f.write(f'func.func @main(%a: tensor<{r}x{c}xf32> {{kiln.name = "a"}}, '
                    f'%b: tensor<{c}xf32> {{kiln.name = "b"}}) -> '
                    f'(tensor<{r}x{c}xf32> {{kiln.name = "y"}}) {{'
                    + body.replace("{R}", str(r)).replace("{C}", str(c))
                    + f"\n  return %1 : tensor<{r}x{c}xf32>\n}}\n")
        subprocess.check_call([args.kiln, "compile", src, "--target=cuda:" + args.sm,
                               "-o", os.path.join(args.dir, name + ".kiln")])
        print("compiled", name)


def measure(args):
    import numpy as np
    import torch
    runner = os.path.join(args.dir, "run_model")
    subprocess.check_call(["cc", "-O2", "-I" + os.path.join(ROOT, "include"),
                           os.path.join(HERE, "run_model.c"), "-L" + args.runtime,
                           "-lkiln_runtime", "-lm", "-o", runner])
    env = dict(os.environ, LD_LIBRARY_PATH=args.runtime, KILN_PROFILE="1")
    # The bandwidth ceiling: a large device-to-device copy (bytes read + written).
    x = torch.empty(64 << 20, device="cuda")
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        y.copy_(x)
    end.record()
    torch.cuda.synchronize()
    copy_gbs = 2 * x.numel() * 4 / (start.elapsed_time(end) / 20 * 1e-3) / 1e9
    del x, y
    print(f"device: {torch.cuda.get_device_name()}; {args.runs} runs after 3 warm-ups; "
          f"device-to-device copy {copy_gbs:.0f} GB/s")
    for name, (r, c, _, expr) in MODELS.items():
        out = os.path.join(args.dir, name + ".out")
        os.makedirs(out, exist_ok=True)
        proc = subprocess.run([runner, os.path.join(args.dir, name + ".kiln"), "cuda",
                               str(args.runs), out], env=env, capture_output=True, text=True)
        if proc.returncode:
            print(name, "FAILED:", proc.stderr.strip())
            continue
        whole = json.loads(proc.stdout)
        kernel_ms = sum(float(m) for m in re.findall(r"kiln: cuda \S+: ([\d.]+) ms", proc.stderr))
        kernel_ms /= args.runs + 3
        # The runner's inputs: element j of input i = sin(0.001 j + i).
        a = torch.from_numpy(np.sin(0.001 * np.arange(r * c) + 0).astype(np.float32)).reshape(r, c)
        b = torch.from_numpy(np.sin(0.001 * np.arange(c) + 1).astype(np.float32))
        a, b = a.cuda(), b.cuda()
        fn = eval("lambda a, b: " + expr, {"torch": torch})
        want = fn(a.double(), b.double()).cpu().numpy()  # float64 reference
        got = np.fromfile(os.path.join(out, "y.bin"), dtype=np.float32).reshape(r, c)
        err = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        if not np.isfinite(got).all():
            err = float("inf")

        def cuda_time(f):
            for _ in range(3):
                f(a, b)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            for _ in range(args.runs):
                f(a, b)
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / args.runs

        eager = cuda_time(fn)
        try:
            compiled = cuda_time(torch.compile(fn))
        except Exception as e:  # noqa: BLE001 (report, keep going)
            compiled = float("nan")
            print("  torch.compile failed:", str(e).splitlines()[0])
        gbytes = (r * c * 2 + c) * 4 / 1e9
        print(f"{name}: |kiln - ref| / |ref| {err:.1e} (float64 reference); kiln kernels "
              f"{kernel_ms:.4f} ms ({gbytes / kernel_ms * 1e3:.0f} GB/s = "
              f"{gbytes / kernel_ms * 1e3 / copy_gbs:.2f} of the copy), kiln session_run {whole['median_ms']:.3f} ms "
              f"(with copies); torch eager {eager:.4f} ms, torch.compile {compiled:.4f} ms; "
              f"kiln/eager {kernel_ms / eager:.2f}, kiln/compile {kernel_ms / compiled:.2f}")
        if not err < 1e-5:
            print("  MISMATCH")
            sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    pr = sub.add_parser("prepare")
    pr.add_argument("dir")
    pr.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    pr.add_argument("--sm", default="sm_90")
    me = sub.add_parser("measure")
    me.add_argument("dir")
    me.add_argument("--runtime", required=True, help="folder holding libkiln_runtime.so")
    me.add_argument("--runs", type=int, default=50)
    args = p.parse_args()
    prepare(args) if args.step == "prepare" else measure(args)


if __name__ == "__main__":
    main()
