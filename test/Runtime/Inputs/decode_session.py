"""Test helper: `decode_session.py LIB ART.kiln MODEL.onnx STEPS [--prompt N]
[--rewind K] [--first OTHER.kiln]` runs a greedy decode loop through the C API (ctypes on
libkiln_runtime) on an artifact compiled with --max-context, the KV cache
kept in the session, and the same loop in onnxruntime on the ONNX file
with the cache passed in and out (past_* inputs, present_* outputs). The
prompt is N random tokens, then STEPS tokens, each onnxruntime's argmax.
Prints one line per step with the largest logit difference, checks the
cache read out at the end (kiln_session_read_state) against onnxruntime's
present, and with --rewind K rewinds the session K entries and repeats
those steps, which must give the same logits again. "all match" at the end
when every comparison holds. --first loads another artifact (and a session
of it) in the same process first: each model must keep its own kernels."""
import ctypes
import sys

import numpy as np
import onnx
import onnxruntime as ort

lib_path, art, model, steps = sys.argv[1:5]
steps = int(steps)
prompt = int(sys.argv[sys.argv.index("--prompt") + 1]) if "--prompt" in sys.argv else 5
rewind = int(sys.argv[sys.argv.index("--rewind") + 1]) if "--rewind" in sys.argv else 0
tol = 1e-4


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p)]


lib = ctypes.CDLL(lib_path)
lib.kiln_last_error.restype = ctypes.c_char_p
lib.kiln_session_state_length.restype = ctypes.c_int64
lib.kiln_model_num_states.restype = ctypes.c_size_t
lib.kiln_model_num_inputs.restype = ctypes.c_size_t
lib.kiln_model_num_outputs.restype = ctypes.c_size_t
I64, F32 = 7, 0
keep = []  # arrays the tensors point into


def tensor(name, array):
    array = np.ascontiguousarray(array)
    keep.append(array)
    shape = (ctypes.c_int64 * array.ndim)(*array.shape)
    keep.append(shape)
    return Tensor(name.encode() if name else None, I64 if array.dtype == np.int64 else F32,
                  array.ndim, shape, array.ctypes.data)


def check(status, what):
    if status != 0:
        print(f"{what}: error {status}: {lib.kiln_last_error().decode()}")
        sys.exit(1)


if "--first" in sys.argv:
    m0, s0 = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.kiln_model_open(sys.argv[sys.argv.index("--first") + 1].encode(),
                              ctypes.byref(m0)), "open first")
    check(lib.kiln_session_create(m0, b"cpu", ctypes.byref(s0)), "session first")
m, s = ctypes.c_void_p(), ctypes.c_void_p()
check(lib.kiln_model_open(art.encode(), ctypes.byref(m)), "open")
check(lib.kiln_session_create(m, b"cpu", ctypes.byref(s)), "session")
print(f"inputs {lib.kiln_model_num_inputs(m)}, outputs {lib.kiln_model_num_outputs(m)}, "
      f"states {lib.kiln_model_num_states(m)}")

proto = onnx.load(model)
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
pasts = [i for i in proto.graph.input if i.name.startswith("past")]
presents = [o.name for o in proto.graph.output if o.name.startswith("present")]
vocab = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim][-1]


def kiln_step(ids, total):
    feeds = [tensor("input_ids", ids), tensor("attention_mask", np.ones((1, total), np.int64))]
    logits = np.zeros((1, ids.shape[1], vocab), np.float32)
    out = [tensor(None, logits)]
    inputs = (Tensor * len(feeds))(*feeds)
    outputs = (Tensor * 1)(*out)
    check(lib.kiln_session_run(s, inputs, len(feeds), outputs, 1), "run")
    return logits


def ort_step(ids, past):
    total = ids.shape[1] + (past[0].shape[2] if past else 0)
    feeds = {"input_ids": ids, "attention_mask": np.ones((1, total), np.int64)}
    for i, p in enumerate(pasts):
        dims = [d.dim_value for d in p.type.tensor_type.shape.dim]
        feeds[p.name] = past[i] if past else np.zeros((1, dims[1], 0, dims[3]), np.float32)
    out = sess.run(None, feeds)
    return out[0], out[1:]


rng = np.random.default_rng(3)
ids = rng.integers(0, vocab, (1, prompt), dtype=np.int64)
ok, past, history = True, None, []
for step in range(steps + 1):
    ref, past_next = ort_step(ids, past)
    held = lib.kiln_session_state_length(s)
    got = kiln_step(ids, held + ids.shape[1])
    err = float(np.abs(got - ref).max())
    same = err <= tol * max(1.0, float(np.abs(ref).max()))
    ok &= same
    print(f"step {step}: {ids.shape[1]} tokens after {held}: logits {'ok' if same else 'WRONG'} "
          f"error {err:.1e}")
    history.append((ids, ref, held))
    past = past_next
    ids = np.array([[int(ref[0, -1].argmax())]], np.int64)
length = lib.kiln_session_state_length(s)
print(f"state length {length}")
ok &= length == prompt + steps

# The cache read out equals onnxruntime's last present.
want = past[0]
read = np.zeros(want.shape, np.float32)
check(lib.kiln_session_read_state(s, 0, ctypes.byref(tensor(None, read))), "read_state")
err = float(np.abs(read - want).max())
print(f"read state 0 {list(read.shape)}: {'ok' if err <= tol else 'WRONG'} error {err:.1e}")
ok &= err <= tol

if rewind:
    # Rewind K entries and replay those steps: the same logits again.
    check(lib.kiln_session_rewind(s, ctypes.c_int64(length - rewind)), "rewind")
    for ids, ref, held in history:
        if held < length - rewind:
            continue
        got = kiln_step(ids, held + ids.shape[1])
        err = float(np.abs(got - ref).max())
        same = err <= tol * max(1.0, float(np.abs(ref).max()))
        ok &= same
        print(f"replay after {held}: logits {'ok' if same else 'WRONG'} error {err:.1e}")
    # Rewinding past what is held is refused.
    status = lib.kiln_session_rewind(s, ctypes.c_int64(length + 1))
    print(f"rewind to {length + 1}: status {status}: {lib.kiln_last_error().decode()}")
    ok &= status == 4
print("all match" if ok else "MISMATCH")
