"""Shared driver for the ONNX suite scripts (import_suite.py, conformance.py).

A suite is NAME=DIR, a folder of test cases (folders holding model.onnx).
`main(run_case, verb)` runs `run_case(case_dir) -> (ok, message)` over every
case in parallel, prints the rate per suite, writes --report (failures with
their first error line), and checks --expected: a listed case that fails or
is missing, or any crash/timeout, makes it return 1. --update rewrites the
expected list from this run. --expected-plain lists the cases that must
pass with no remark (conformance: compiled once with nothing frozen, as an
application would run them); --update rewrites it too.
"""
import argparse
import concurrent.futures as cf
import os


def _is_crash(msg):
    return msg.startswith("CRASH") or msg.endswith("timeout")


def main(run_case, verb, description, plain_label="without a remark"):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--suite", action="append", required=True, help="NAME=DIR")
    ap.add_argument("--expected", required=True)
    ap.add_argument("--expected-plain", help="cases that must pass with no remark")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--report")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    cases = []
    for spec in args.suite:
        name, _, folder = spec.partition("=")
        for case in sorted(os.listdir(folder)):
            if os.path.isfile(os.path.join(folder, case, "model.onnx")):
                cases.append((f"{name}/{case}", os.path.join(folder, case)))
    results = {}
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_case, args.kiln, d): c for c, d in cases}
        for f in cf.as_completed(futures):
            try:
                results[futures[f]] = f.result()
            except Exception as e:  # a case the harness itself cannot read
                results[futures[f]] = (False, f"harness: {e}"[:200])

    suites, notes = {}, {}
    for case, (ok, msg) in results.items():
        suite = case.split("/")[0]
        passed, total = suites.get(suite, (0, 0))
        suites[suite] = (passed + ok, total + 1)
        if ok and msg:  # a pass with a remark (how it passed)
            notes.setdefault(suite, {}).setdefault(msg, 0)
            notes[suite][msg] += 1
    for suite, (passed, total) in sorted(suites.items()):
        remark = "".join(f"; {n} {m}" for m, n in sorted(notes.get(suite, {}).items()))
        print(f"{suite}: {passed}/{total} {verb} ({100.0 * passed / total:.1f}%){remark}")
    if args.report:
        with open(args.report, "w") as f:
            for case in sorted(results):
                if not results[case][0]:
                    f.write(f"{case}\t{results[case][1]}\n")

    passing = sorted(c for c, (ok, _) in results.items() if ok)
    plain = sorted(c for c, (ok, msg) in results.items() if ok and not msg)
    if args.expected_plain:
        for suite, (_, total) in sorted(suites.items()):
            n = sum(1 for c in plain if c.split("/")[0] == suite)
            print(f"{suite}: {n}/{total} {verb} {plain_label} ({100.0 * n / total:.1f}%)")
    if args.update:
        with open(args.expected, "w") as f:
            f.write("\n".join(passing) + "\n")
        print(f"wrote {len(passing)} cases to {args.expected}")
        if args.expected_plain:
            with open(args.expected_plain, "w") as f:
                f.write("\n".join(plain) + "\n")
            print(f"wrote {len(plain)} cases to {args.expected_plain}")
        return 0
    with open(args.expected) as f:
        expected = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    missing = sorted(c for c in expected if c not in results)
    regressed = sorted(c for c in expected if c in results and not results[c][0])
    crashes = sorted(c for c, (_, msg) in results.items() if _is_crash(msg))
    plain_lost = []
    if args.expected_plain:
        with open(args.expected_plain) as f:
            must = {l.strip() for l in f if l.strip() and not l.startswith("#")}
        plain_lost = sorted(c for c in must if c in results and results[c][0] and results[c][1])
        missing += sorted(c for c in must if c not in results and c not in missing)
        regressed += sorted(c for c in must if c in results and not results[c][0]
                            and c not in regressed)
    for c in plain_lost:
        print(f"REGRESSION: {c}: passes only {results[c][1]}, expected {plain_label}")
    for c in regressed:
        print(f"REGRESSION: {c}: {results[c][1]}")
    for c in missing:
        print(f"MISSING: {c} (expected to pass, not found)")
    for c in crashes:
        print(f"{results[c][1].split(':')[0]}: {c}: {results[c][1]}")
    if args.expected_plain:
        new_plain = len(set(plain) - must)
        if new_plain:
            print(f"{new_plain} case(s) now pass {plain_label} but are not in "
                  f"{os.path.basename(args.expected_plain)}; run with --update to add them")
    new = len(set(passing) - expected)
    if new:
        print(f"{new} case(s) now {verb.split()[0]} but are not in the expected list; "
              "run with --update to add them")
    return 1 if regressed or missing or crashes or plain_lost else 0
