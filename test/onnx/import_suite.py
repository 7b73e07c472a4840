#!/usr/bin/env python3
"""Run `kiln import` over ONNX backend test suites and check the pass list.

Each suite is a folder of test cases (folders holding model.onnx). The
expected file lists, one per line, the cases (SUITE/CASE) that must import;
a listed case that fails is a regression and makes this script exit 1.
With --update the file is rewritten from this run. --report writes every
failure with the first error line, for docs.
"""
import os
import subprocess
import sys

import suites


def run_case(kiln, model):
    try:
        p = subprocess.run([kiln, "import", model], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=120)
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


if __name__ == "__main__":
    sys.exit(suites.main(lambda kiln, case_dir: run_case(
        kiln, os.path.join(case_dir, "model.onnx")), "imported", __doc__))
