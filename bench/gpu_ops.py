#!/usr/bin/env python3
"""Models on an NVIDIA GPU: Kiln's cuda target vs PyTorch (elementwise,
softmax, norms, reductions, layout, and the naive one-thread-per-output
matmul the target has so far).

Two steps, because the compiler needs LLVM 22 and the GPU machine has none:

  bench/gpu_ops.py prepare DIR [--kiln build/bin/kiln]
      writes the models (MLIR) and compiles each with --target=cuda:sm_90
  bench/gpu_ops.py measure DIR --runtime build/lib [--runs 50]
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

F = "torch.nn.functional"

# name: ([(input, shape)], result shape, MLIR body computing %r, torch expression
# over the inputs by name). Element j of input i is sin(0.001 j + i).
MODELS = {
    "silu_add_8192x4096": ([("a", [8192, 4096]), ("b", [4096])], [8192, 4096], """
  %0 = kiln.binary add %a, %b : tensor<8192x4096xf32>, tensor<4096xf32>
  %r = kiln.unary silu %0 : tensor<8192x4096xf32>""", f"{F}.silu(a + b)"),
    "silu_add_exp_8192x4096": ([("a", [8192, 4096]), ("b", [4096])], [8192, 4096], """
  %e = kiln.unary exp %b : tensor<4096xf32>
  %0 = kiln.binary add %a, %e : tensor<8192x4096xf32>, tensor<4096xf32>
  %r = kiln.unary silu %0 : tensor<8192x4096xf32>""", f"{F}.silu(a + torch.exp(b))"),
    "silu_add_1000x999": ([("a", [1000, 999]), ("b", [999])], [1000, 999], """
  %0 = kiln.binary add %a, %b : tensor<1000x999xf32>, tensor<999xf32>
  %r = kiln.unary silu %0 : tensor<1000x999xf32>""", f"{F}.silu(a + b)"),
    "gelu_mul_1024x1024": ([("a", [1024, 1024]), ("b", [1024])], [1024, 1024], """
  %0 = kiln.binary mul %a, %b : tensor<1024x1024xf32>, tensor<1024xf32>
  %r = kiln.unary gelu %0 : tensor<1024x1024xf32>""", f"{F}.gelu(a * b)"),
    "softmax_4096x1024": ([("a", [4096, 1024])], [4096, 1024], """
  %r = kiln.softmax %a axis = 1 : tensor<4096x1024xf32>""", "torch.softmax(a, 1)"),
    "layer_norm_4096x1024": ([("x", [4096, 1024]), ("g", [1024]), ("b", [1024])], [4096, 1024], """
  %r = kiln.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : tensor<4096x1024xf32>, tensor<1024xf32>, tensor<1024xf32>""",
        f"{F}.layer_norm(x, (1024,), g, b, 1e-5)"),
    "rms_norm_4096x1024": ([("x", [4096, 1024]), ("w", [1024])], [4096, 1024], """
  %r = kiln.rms_norm %x, %w {epsilon = 1.0e-5 : f32} : tensor<4096x1024xf32>, tensor<1024xf32>""",
        "x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w"),
    "reduce_sum_4096x1024": ([("x", [4096, 1024])], [4096], """
  %r = kiln.reduce sum %x axes = [1] : tensor<4096x1024xf32>""", "x.sum(1)"),
    "transpose_4096x1024": ([("x", [4096, 1024])], [1024, 4096], """
  %r = kiln.transpose %x perm = [1, 0] : tensor<4096x1024xf32>""", "x.t().contiguous()"),
    "matmul_1024": ([("a", [1024, 1024]), ("b", [1024, 1024])], [1024, 1024], """
  %r = kiln.matmul %a, %b : tensor<1024x1024xf32>, tensor<1024x1024xf32>""", "a @ b"),
    "gated_mlp_128x512x1376": ([("x", [1, 128, 512]), ("g", [512, 1376]), ("u", [512, 1376]),
                                ("d", [1376, 512])], [1, 128, 512], """
  %r = kiln.gated_mlp %x, %g, %u, %d : tensor<1x128x512xf32>, tensor<512x1376xf32>, tensor<512x1376xf32>, tensor<1376x512xf32>""",
        f"({F}.silu(x @ g) * (x @ u)) @ d"),
}


def tensor(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def prepare(args):
    os.makedirs(args.dir, exist_ok=True)
    for name, (inputs, result, body, _) in MODELS.items():
        src = os.path.join(args.dir, name + ".mlir")
        params = ", ".join(f'%{n}: {tensor(s)} {{kiln.name = "{n}"}}' for n, s in inputs)
        with open(src, "w") as f:
            f.write(f'func.func @main({params}) -> ({tensor(result)} {{kiln.name = "y"}}) {{'
                    f"{body}\n  return %r : {tensor(result)}\n}}\n")
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
    failures = 0
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
    for name, (inputs, result, _, expr) in MODELS.items():
        if args.only and name not in args.only.split(","):
            continue
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
        xs = {n: torch.from_numpy(np.sin(0.001 * np.arange(int(np.prod(s))) + i)
                                  .astype(np.float32)).reshape(s).cuda()
              for i, (n, s) in enumerate(inputs)}
        fn = eval("lambda " + ", ".join(xs) + ": " + expr, {"torch": torch})
        with torch.no_grad():
            want = fn(**{n: x.double() for n, x in xs.items()}).cpu().numpy()  # float64 reference
        got = np.fromfile(os.path.join(out, "y.bin"), dtype=np.float32).reshape(result)
        err = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        if not np.isfinite(got).all():
            err = float("inf")
        torch.backends.cuda.matmul.allow_tf32 = False  # compare f32 with f32

        def cuda_time(f):
            for _ in range(3):
                f(**xs)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            for _ in range(args.runs):
                f(**xs)
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / args.runs

        eager = cuda_time(fn)
        try:
            torch._dynamo.reset()  # each model's lambda is a new function
            compiled = cuda_time(torch.compile(fn))
        except Exception as e:  # noqa: BLE001 (report, keep going)
            compiled = float("nan")
            print("  torch.compile failed:", str(e).splitlines()[0])
        gbytes = (sum(int(np.prod(s)) for _, s in inputs) + int(np.prod(result))) * 4 / 1e9
        print(f"{name}: |kiln - ref| / |ref| {err:.1e} (float64 reference); kiln kernels "
              f"{kernel_ms:.4f} ms ({gbytes / kernel_ms * 1e3:.0f} GB/s = "
              f"{gbytes / kernel_ms * 1e3 / copy_gbs:.2f} of the copy), kiln session_run "
              f"{whole['median_ms']:.3f} ms (with copies); torch eager {eager:.4f} ms, "
              f"torch.compile {compiled:.4f} ms; kiln/eager {kernel_ms / eager:.2f}, "
              f"kiln/compile {kernel_ms / compiled:.2f}")
        # float32 against float64: far under 1e-4 unless something is wrong
        # (K-long sums of the matmuls land near 1e-5).
        if not err < 1e-4:
            print("  MISMATCH")
            failures += 1
    sys.exit(1 if failures else 0)


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
    me.add_argument("--only", help="comma-separated model names")
    args = p.parse_args()
    prepare(args) if args.step == "prepare" else measure(args)


if __name__ == "__main__":
    main()
