"""Compile time against graph size: a chain of N elementwise nodes (tanh,
x*0.5, x+1 in turn, on a 64x64 input), written as kiln IR, compiled by
`kiln compile` for the CPU; prints seconds per size and per 1000 nodes (a
linear compiler keeps the last column flat). --verbose-stages adds kiln's
per-stage times for the largest size."""
import argparse
import os
import subprocess
import tempfile
import time


def chain(n):
    lines = ['func.func @main(%x: tensor<64x64xf32> {kiln.name = "x"}) -> '
             '(tensor<64x64xf32> {kiln.name = "y"}) {',
             '  %half = arith.constant dense<0.5> : tensor<64x64xf32>',
             '  %one = arith.constant dense<1.0> : tensor<64x64xf32>']
    prev = "%x"
    for i in range(n):
        op = i % 3
        if op == 0:
            lines.append(f"  %v{i} = kiln.unary tanh {prev} : tensor<64x64xf32>")
        else:
            kind, c = ("mul", "%half") if op == 1 else ("add", "%one")
            lines.append(f"  %v{i} = kiln.binary {kind} {prev}, {c} : "
                         "tensor<64x64xf32>, tensor<64x64xf32>")
        prev = f"%v{i}"
    lines += [f"  return {prev} : tensor<64x64xf32>", "}"]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default="build/bin/kiln")
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--verbose-stages", action="store_true")
    ap.add_argument("--write", metavar="FILE", help="only write the chain of the first size "
                    "to FILE (for tests)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.write:
        open(args.write, "w").write(chain(sizes[0]))
        return
    with tempfile.TemporaryDirectory() as d:
        print(f"{'nodes':>8}{'compile s':>12}{'s / 1000 nodes':>16}")
        for n in sizes:
            src = os.path.join(d, f"chain{n}.mlir")
            open(src, "w").write(chain(n))
            cmd = [args.kiln, "compile", src, "-o", os.path.join(d, "out.kiln")]
            if args.verbose_stages and n == sizes[-1]:
                cmd.append("--verbose")
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            s = time.perf_counter() - t
            if p.returncode:
                raise SystemExit(p.stderr)
            print(f"{n:>8}{s:>12.2f}{1000 * s / n:>16.2f}")
            if args.verbose_stages and n == sizes[-1]:
                print("\n".join(l for l in p.stderr.splitlines() if "] " in l))


if __name__ == "__main__":
    main()
