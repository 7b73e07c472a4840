"""Shared helpers for the benchmark scripts: run a command and record its
wall time and peak RSS, time a callable, time `kiln bench` and an
onnxruntime session (median and p90), keep a CPU busy, print a table."""
import json
import os
import subprocess
import sys
import time


def run_measured(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in MiB, stdout). Raises on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()}")
    return seconds, usage.ru_maxrss / 1024.0, out.decode()


def median_ms(fn, warmup=3, iterations=20):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e3


def table(rows, headers):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(v).rjust(w) for v, w in zip(r, widths))
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def kiln_times(kiln, art, inputs, threads, iterations, warmup=10):
    """(median ms, p90 ms) of `kiln bench ART` on `threads` threads."""
    env = dict(os.environ, KILN_NUM_THREADS=str(threads))
    out = subprocess.run([kiln, "bench", art, *inputs, "--json", "--warmup", str(warmup),
                          "--iterations", str(iterations)], env=env, check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["median_ms"], r["p90_ms"]


def ort_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_times(sess, feeds, iterations, warmup=10):
    """(median ms, p90 ms) of an onnxruntime session; I/O binding keeps
    Python's per-call overhead out of the timings."""
    binding = sess.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    for out in sess.get_outputs():
        binding.bind_output(out.name)
    for _ in range(warmup):
        sess.run_with_iobinding(binding)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        sess.run_with_iobinding(binding)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e3, times[min(len(times) - 1, int(0.9 * len(times)))] * 1e3


def busy_loop(cpu=0):
    """A process spinning on `cpu` until killed (a shared machine)."""
    return subprocess.Popen([sys.executable, "-c",
                             f"import os\nos.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"])
