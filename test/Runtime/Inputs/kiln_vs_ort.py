"""Test helper module: run one compiled artifact on given inputs with
`kiln run` and compare every output with onnxruntime's on the same inputs
(check_dynamic.py, value_sized.py)."""
import os
import subprocess

import numpy as np


def run_and_compare(kiln, art, tmp, feeds, sess, outputs, label, judge):
    """Saves `feeds` (name -> array) under `tmp`, runs `kiln run ART`, and
    compares each output (`outputs`: ONNX graph outputs) with `sess`'s by
    `judge(got, ref) -> (good, note)`. Prints "LABEL: NAME [SHAPE] ok|WRONG
    NOTE" per output, or "LABEL: run failed: ..."; returns whether all are
    good."""
    cmd = [kiln, "run", art, "--output-dir", tmp]
    for name, x in feeds.items():
        path = os.path.join(tmp, name + ".in.npy")
        np.save(path, x)
        cmd += ["--input", f"{name}={path}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(f"{label}: run failed: {r.stderr.strip()}")
        return False
    ok = True
    for out, ref in zip(outputs, sess.run(None, feeds)):
        got = np.load(os.path.join(tmp, out.name + ".npy"))
        good, note = judge(got, ref)
        good = good and got.shape == ref.shape
        ok &= good
        print(f"{label}: {out.name} {list(got.shape)} {'ok' if good else 'WRONG'}{note}")
    return ok
