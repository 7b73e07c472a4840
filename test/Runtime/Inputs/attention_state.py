"""Test helper for ONNX Attention's own KV cache kept in the session.

`attention_state.py build OUT.onnx` writes a two-layer model of ONNX
Attention ops (opset 23: 4 query heads on 2 K/V heads of 8, causal, each
with past_key/past_value inputs and present_key/present_value outputs;
batch, sequence and past_sequence dynamic), its projections random.

`attention_state.py run LIB ART.kiln MODEL.onnx STEPS [--prompt N]
[--rewind K]` feeds it a random N-token prompt then STEPS one-token steps
through the C API (ctypes on libkiln_runtime) on an artifact compiled with
--max-context, the caches kept in the session, and the same steps in
onnxruntime with the caches passed in and out. Prints one line per step
with the largest output difference, checks the caches read out at the end
against onnxruntime's presents, and with --rewind K rewinds K entries and
replays those steps (the same outputs again). "all match" when every
comparison holds.
"""
import ctypes
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, KV_HEADS, HEAD = 32, 4, 2, 8
LAYERS = 2
TOL = 1e-4


def build(path):
    rng = np.random.default_rng(5)
    nodes, inits = [], []

    def weight(name, shape):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32), name))
        return name

    def heads(src, w, n, out):
        # x W -> [B, S, n, HEAD] -> [B, n, S, HEAD]
        nodes.append(helper.make_node("MatMul", [src, w], [out + "_p"]))
        shape = out + "_shape"
        inits.append(numpy_helper.from_array(np.array([0, 0, n, HEAD], np.int64), shape))
        nodes.append(helper.make_node("Reshape", [out + "_p", shape], [out + "_r"]))
        nodes.append(helper.make_node("Transpose", [out + "_r"], [out], perm=[0, 2, 1, 3]))

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                            ["batch", "sequence", HIDDEN])]
    outputs = []
    h = "x"
    merge = "merge_shape"
    inits.append(numpy_helper.from_array(np.array([0, 0, HIDDEN], np.int64), merge))
    for layer in range(LAYERS):
        L = str(layer)
        heads(h, weight("wq" + L, [HIDDEN, HEADS * HEAD]), HEADS, "q" + L)
        heads(h, weight("wk" + L, [HIDDEN, KV_HEADS * HEAD]), KV_HEADS, "k" + L)
        heads(h, weight("wv" + L, [HIDDEN, KV_HEADS * HEAD]), KV_HEADS, "v" + L)
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(
                f"past_{kind}_{L}", TensorProto.FLOAT, ["batch", KV_HEADS, "past_sequence", HEAD]))
            outputs.append(helper.make_tensor_value_info(
                f"present_{kind}_{L}", TensorProto.FLOAT,
                ["batch", KV_HEADS, "total_sequence", HEAD]))
        nodes.append(helper.make_node(
            "Attention", ["q" + L, "k" + L, "v" + L, "", f"past_key_{L}", f"past_value_{L}"],
            ["a" + L, f"present_key_{L}", f"present_value_{L}"], is_causal=1))
        nodes.append(helper.make_node("Transpose", ["a" + L], ["at" + L], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", ["at" + L, merge], ["am" + L]))
        nodes.append(helper.make_node("MatMul", ["am" + L, weight("wo" + L, [HIDDEN, HIDDEN])],
                                      ["o" + L]))
        nodes.append(helper.make_node("Add", [h, "o" + L], ["h" + L]))
        h = "h" + L
    outputs.insert(0, helper.make_tensor_value_info(h, TensorProto.FLOAT,
                                                    ["batch", "sequence", HIDDEN]))
    graph = helper.make_graph(nodes, "attention_state", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, path)


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p)]


def run(lib_path, art, model, steps, prompt, rewind):
    import onnxruntime as ort
    lib = ctypes.CDLL(lib_path)
    lib.kiln_last_error.restype = ctypes.c_char_p
    lib.kiln_session_state_length.restype = ctypes.c_int64
    lib.kiln_model_num_states.restype = ctypes.c_size_t
    lib.kiln_model_num_inputs.restype = ctypes.c_size_t
    lib.kiln_model_num_outputs.restype = ctypes.c_size_t
    keep = []

    def tensor(name, array):
        array = np.ascontiguousarray(array)
        shape = (ctypes.c_int64 * array.ndim)(*array.shape)
        keep.extend([array, shape])
        return Tensor(name.encode() if name else None, 0, array.ndim, shape, array.ctypes.data)

    def check(status, what):
        if status != 0:
            print(f"{what}: error {status}: {lib.kiln_last_error().decode()}")
            sys.exit(1)

    m, s = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.kiln_model_open(art.encode(), ctypes.byref(m)), "open")
    check(lib.kiln_session_create(m, b"cpu", ctypes.byref(s)), "session")
    states = lib.kiln_model_num_states(m)
    print(f"inputs {lib.kiln_model_num_inputs(m)}, outputs {lib.kiln_model_num_outputs(m)}, "
          f"states {states}")
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs() if i.name.startswith("past")]

    def kiln_step(x):
        y = np.zeros(x.shape, np.float32)
        ins, outs = (Tensor * 1)(tensor("x", x)), (Tensor * 1)(tensor(None, y))
        check(lib.kiln_session_run(s, ins, 1, outs, 1), "run")
        return y

    def ort_step(x, past):
        feeds = {"x": x}
        for i, n in enumerate(names):
            feeds[n] = past[i] if past else np.zeros((1, KV_HEADS, 0, HEAD), np.float32)
        out = sess.run(None, feeds)
        return out[0], out[1:]

    rng = np.random.default_rng(7)
    ok, past, history = True, None, []
    x = rng.standard_normal((1, prompt, HIDDEN)).astype(np.float32)
    for step in range(steps + 1):
        ref, past_next = ort_step(x, past)
        held = lib.kiln_session_state_length(s)
        got = kiln_step(x)
        err = float(np.abs(got - ref).max())
        same = err <= TOL * max(1.0, float(np.abs(ref).max()))
        ok &= same
        print(f"step {step}: {x.shape[1]} tokens after {held}: output {'ok' if same else 'WRONG'} "
              f"error {err:.1e}")
        history.append((x, ref, held))
        past = past_next
        x = rng.standard_normal((1, 1, HIDDEN)).astype(np.float32)
    length = lib.kiln_session_state_length(s)
    print(f"state length {length}")
    ok &= length == prompt + steps
    for i in range(states):
        read = np.zeros(past[i].shape, np.float32)
        check(lib.kiln_session_read_state(s, i, ctypes.byref(tensor(None, read))), "read_state")
        err = float(np.abs(read - past[i]).max())
        print(f"read state {i} {list(read.shape)}: {'ok' if err <= TOL else 'WRONG'}")
        ok &= err <= TOL
    if rewind:
        check(lib.kiln_session_rewind(s, ctypes.c_int64(length - rewind)), "rewind")
        for x, ref, held in history:
            if held < length - rewind:
                continue
            err = float(np.abs(kiln_step(x) - ref).max())
            same = err <= TOL * max(1.0, float(np.abs(ref).max()))
            ok &= same
            print(f"replay after {held}: output {'ok' if same else 'WRONG'}")
    print("all match" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2])
    else:
        args = sys.argv[2:]
        opt = lambda flag, d: int(args[args.index(flag) + 1]) if flag in args else d
        sys.exit(run(args[0], args[1], args[2], int(args[3]), opt("--prompt", 5),
                     opt("--rewind", 0)))
