"""Test helper: `flip_bytes.py KILN ART.kiln N SEED INPUT.npy...` runs the
artifact once as written, then N times with one random byte changed
(seeded), and prints how each run ended: a clean error (exit 1-123 with a
'kiln: error:' message), a crash (a signal, or exit 124 and above), or a
silent change (exit 0 with different outputs)."""
import os
import random
import shutil
import subprocess
import sys
import tempfile


def run(kiln, art, inputs, out):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [kiln, "run", art, "--output-dir", out] + [a for i in inputs for a in ("--input", i)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def outputs(folder):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))}


def main():
    kiln, art, n, seed, inputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
    rng = random.Random(seed)
    data = open(art, "rb").read()
    tmp = tempfile.mkdtemp()
    good = run(kiln, art, inputs, os.path.join(tmp, "good"))
    assert good.returncode == 0, good.stderr
    expected = outputs(os.path.join(tmp, "good"))
    counts = {"clean": 0, "crash": 0, "silent": 0, "same": 0}
    for _ in range(n):
        pos = rng.randrange(len(data))
        flipped = bytearray(data)
        flipped[pos] ^= rng.randrange(1, 256)
        path = os.path.join(tmp, "flipped.kiln")
        open(path, "wb").write(flipped)
        p = run(kiln, path, inputs, os.path.join(tmp, "out"))
        if p.returncode < 0 or p.returncode >= 124:
            counts["crash"] += 1
            print(f"crash at byte {pos}: rc {p.returncode} {p.stderr[-200:]}")
        elif p.returncode == 0:
            same = outputs(os.path.join(tmp, "out")) == expected
            counts["same" if same else "silent"] += 1
            if not same:
                print(f"silent change at byte {pos}")
        elif "kiln: error:" in p.stderr:
            counts["clean"] += 1
        else:
            counts["crash"] += 1
            print(f"no message at byte {pos}: rc {p.returncode} {p.stderr[-200:]}")
    shutil.rmtree(tmp)
    print(" ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
