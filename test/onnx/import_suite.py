#!/usr/bin/env python3
"""Run `kiln import` over ONNX backend test suites and check the pass list.

Each suite is a folder of test cases (folders holding model.onnx). The
expected file lists, one per line, the cases (SUITE/CASE) that must import;
a listed case that fails is a regression and makes this script exit 1.
With --update the file is rewritten from this run. --report writes every
failure with the first error line, for docs.
"""
import argparse
import concurrent.futures as cf
import os
import subprocess
import sys


def run_case(kiln, model):
    try:
        p = subprocess.run([kiln, "import", model, "-o", os.devnull],
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    if p.returncode < 0 or p.returncode > 123:
        return False, f"CRASH rc={p.returncode}: {p.stderr.strip()[-300:]}"
    if p.returncode != 0:
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        # The unsupported-op list puts the op on the second line.
        msg = " ".join(lines[:2]) if lines else f"rc={p.returncode}"
        return False, msg
    return True, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--suite", action="append", required=True,
                    help="NAME=DIR of test cases")
    ap.add_argument("--expected", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--report")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    cases = []
    for spec in args.suite:
        name, _, folder = spec.partition("=")
        for case in sorted(os.listdir(folder)):
            model = os.path.join(folder, case, "model.onnx")
            if os.path.isfile(model):
                cases.append((f"{name}/{case}", model))

    results = {}
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_case, args.kiln, m): c for c, m in cases}
        for f in cf.as_completed(futures):
            results[futures[f]] = f.result()

    crashes = 0
    suites = {}
    for case, (ok, msg) in results.items():
        suite = case.split("/")[0]
        passed, total = suites.get(suite, (0, 0))
        suites[suite] = (passed + ok, total + 1)
        crashes += msg.startswith("CRASH") or msg == "timeout"
    for suite, (passed, total) in sorted(suites.items()):
        print(f"{suite}: {passed}/{total} imported ({100.0 * passed / total:.1f}%)")

    if args.report:
        with open(args.report, "w") as f:
            for case in sorted(results):
                ok, msg = results[case]
                if not ok:
                    f.write(f"{case}\t{msg}\n")

    passing = sorted(c for c, (ok, _) in results.items() if ok)
    if args.update:
        with open(args.expected, "w") as f:
            f.write("\n".join(passing) + "\n")
        print(f"wrote {len(passing)} cases to {args.expected}")
        return 0

    with open(args.expected) as f:
        expected = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    missing = sorted(c for c in expected if c not in results)
    regressed = sorted(c for c in expected if c in results and not results[c][0])
    new = sorted(set(passing) - expected)
    for c in regressed:
        print(f"REGRESSION: {c}: {results[c][1]}")
    for c in missing:
        print(f"MISSING: {c} (expected to pass, not found)")
    if crashes:
        for c, (ok, msg) in sorted(results.items()):
            if msg.startswith("CRASH") or msg == "timeout":
                print(f"{msg.split(':')[0]}: {c}: {msg}")
    if new:
        print(f"{len(new)} case(s) now import but are not in the expected "
              f"list; run with --update to add them")
    return 1 if regressed or missing or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
