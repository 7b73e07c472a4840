"""Test helper for sizes decided by input values (test/Runtime/value-sized.test).

`value_sized.py write DIR` writes ONNX models whose inputs all have static
dims but whose outputs' dims come from the values of small integer inputs:

- reshape.onnx: x [2, 3, 4] reshaped to `shape` [3] (an input; 0 copies,
  -1 is inferred).
- topk.onnx: the `k` [1] largest of x [5, 10] along the last axis.
- range.onnx: Range(start, limit, delta), int64 scalars.
- range_float.onnx: Range(start, limit, delta), float32 scalars (the span
  in float, the quotient in double, as onnxruntime does).
- window.onnx: HannWindow(size) with an int32 `size`, periodic and symmetric
  (a length cast to float, then Range over it).
- reduce_axes.onnx: ReduceSum and ReduceMean of x [2, 3, 4] over the `axes`
  [2] input, kept and dropped (which dims a run reduces is known per run).
- stft.onnx: STFT of a signal [1, 64, 1] with a `frame_step` input and a
  window [16] input (frames per run from the step).
- dft.onnx: DFT of x [2, n, 1] over 12 points (`dft_length`, a constant),
  one-sided, and the full transform taken back by the inverse one: n below
  12 pads with zeros, above truncates.
- cumsum.onnx: CumSum of x [2, 3, 4] along an `axis` input, plain and
  exclusive + reverse (which dim it runs along is known per run).
- det.onnx: Det of a [2, 3, 3] and b [4, 8, 8] (det.test: not a size, the
  same harness).
- nonzero.onnx: NonZero of x [3, 4] (data-sized.test: a size the data
  decides, not an input's values), and of x2 [n, m] with dynamic dims.
- compress.onnx: Compress of x [4, 3] by a bool `cond` [4] along axis 0,
  and of the flattened x by `flat` [12], each then doubled (a kernel
  after the data-sized one).
- nms.onnx: NonMaxSuppression of boxes [2, 6, 4] with scores [2, 2, 6] and
  the `max_output`, `iou` and `score` inputs (data-sized.test).
- unique.onnx: Unique of x [6] (sorted and in first-occurrence order) and
  of the rows of m [4, 3] (sorted), every result (data-sized.test).
- split.onnx: Split of x [7, 2] along axis 0 by a `sizes` [3] input.
- compress_add.onnx: Compress of x [4, 3] by `cond` [6] (entries past the
  axis select nothing), the kept rows plus y [k, 3] (a check on the count:
  read once the run has it).
- unique_nan.onnx: sorted Unique of x [5] with NaN (after every number,
  each its own) and of a bool b [3] (false first); kiln's result only.
- chain.onnx: NonZero of the values Compress keeps of x [6] (a data dim
  bounded by another).
- expand.onnx: x [3, 1] expanded to `shape` [2].
- pad.onnx: x [3, 4] padded by `pads` [4] (reflect mode).
- topk_sum.onnx: the `k` largest of x [5, 10] summed per row (y [5, 1]):
  static outputs, a size from k in between.
- slice.onnx: x [5, 6] sliced with `starts`, `ends`, `axes` and `steps`
  [2] inputs (negative steps, bounds past either end).
- resize.onnx: x [1, 2, 3, 4] resized (linear, half_pixel) to `sizes` [4].
- resize_like.onnx: x [1, 2, H, W] resized (cubic, align_corners) to the
  shape of `skip` [1, 2, H2, W2] (a U-Net's upsampling to its skip
  connection): every dim dynamic, sizes from a Shape, nothing from values.

`value_sized.py check KILN ART MODEL.onnx NAME` runs the artifact (kiln run)
on each of NAME's cases below and compares every output with onnxruntime on
the same file: one line per case, "all match" when all do.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from kiln_vs_ort import run_and_compare
from onnx import TensorProto as T
from onnx import helper as h

CASES = {
    "reshape": [{"shape": [4, 3, 2]}, {"shape": [0, -1, 1]}, {"shape": [24, 1, 1]},
                {"shape": [2, 2, -1]}],
    "topk": [{"k": [1]}, {"k": [3]}, {"k": [10]}],
    "range": [{"start": 0, "limit": 10, "delta": 1}, {"start": 10, "limit": 0, "delta": -3},
              {"start": 5, "limit": 5, "delta": 1}, {"start": -4, "limit": 300, "delta": 7}],
    "range_float": [{"start": 1.0, "limit": 5.5, "delta": 0.5},
                    {"start": 3.0, "limit": -1.25, "delta": -0.75},
                    {"start": 2.0, "limit": 2.0, "delta": 1.0},
                    {"start": 0.0, "limit": 1.0, "delta": 0.1},
                    # 1 / 0.04f is 25 in float, 25.000000372 in double: 26.
                    {"start": 0.0, "limit": 1.0, "delta": 0.04}],
    "window": [{"size": 10}, {"size": 1}, {"size": 33}],
    "reduce_axes": [{"axes": [0, 2]}, {"axes": [-1, 1]}, {"axes": [2, -3]}],
    "stft": [{"frame_step": 4}, {"frame_step": 7}, {"frame_step": 48}],
    "dft": [{"dims": {"x": [2, 8, 1]}}, {"dims": {"x": [2, 20, 1]}}, {"dims": {"x": [2, 12, 1]}}],
    "cumsum": [{"axis": 0}, {"axis": -1}, {"axis": 1}],
    "det": [{"dims": {"a": [2, 3, 3], "b": [4, 8, 8]}},
            # Singular (a row twice), and a zero first column (pivoting).
            {"a": [[1, 2, 3], [2, 4, 6], [0, 1, 1], [0, 2, 1], [0, 5, 7], [3, 1, 1]]}],
    "nonzero": [{"x": [[0, 1, 0, 2], [3, 0, 0, 4], [0, 0, 5, float("nan")]],
                 "dims": {"x2": [2, 3]}},
                {"x": [[0] * 4] * 3, "dims": {"x2": [5, 1]}},
                {"x": [[1] * 4] * 3, "dims": {"x2": [0, 4]}}],
    "compress": [{"cond": [1, 0, 1, 1], "flat": [0, 1] * 6},
                 {"cond": [0, 0, 0, 0], "flat": [1] * 12},
                 {"cond": [1, 1, 1, 1], "flat": [0] * 12}],
    "nms": [{"max_output": [3], "iou": [0.5], "score": [0.0]},
            {"max_output": [10], "iou": [0.1], "score": [0.4]},
            {"max_output": [0], "iou": [0.5], "score": [0.0]},
            {"max_output": [2], "iou": [1.0], "score": [2.0]}],
    "unique": [{"x": [2, 1, 1, 3, 4, 3], "m": [[1, 0, 0], [1, 0, 0], [2, 3, 4], [0, 5, 1]]},
               {"x": [7] * 6, "m": [[3, 2, 1], [1, 2, 3], [3, 2, 0], [1, 2, 3]]},
               {"x": [-1, 5, -2, 0, 9, 3], "m": [[1, 1, 1]] * 4}],
    "split": [{"sizes": [2, 3, 2]}, {"sizes": [0, 7, 0]}],
    "compress_add": [{"cond": [1, 0, 1, 0, 1, 1], "dims": {"x": [4, 3], "y": [2, 3]}},
                     {"cond": [1, 1, 1, 1, 1, 1], "dims": {"x": [4, 3], "y": [4, 3]}}],
    "chain": [{"x": [0, 1, 2, 0, 3, 0], "cond": [1, 1, 0, 1, 1, 0]},
              {"x": [0, 0, 0, 0, 0, 0], "cond": [1, 1, 1, 1, 1, 1]},
              {"x": [1, 2, 3, 4, 5, 6], "cond": [0, 0, 0, 0, 0, 0]}],
    "expand": [{"shape": [3, 4]}, {"shape": [1, 7]}, {"shape": [3, 1]}],
    "topk_sum": [{"k": [1]}, {"k": [4]}],
    "pad": [{"pads": [1, 0, 2, 3]}, {"pads": [0, 0, 0, 0]}, {"pads": [2, 1, 0, 2]}],
    "slice": [{"starts": [1, -1], "ends": [4, -7], "axes": [0, 1], "steps": [1, -2]},
              {"starts": [-100, 0], "ends": [-2**63, 6], "axes": [1, 0], "steps": [-1, 2]},
              {"starts": [10, 2], "ends": [0, 2], "axes": [-2, -1], "steps": [-1, 1]}],
    "resize": [{"sizes": [1, 2, 6, 8]}, {"sizes": [1, 2, 2, 3]}, {"sizes": [1, 2, 5, 1]}],
    # Shapes of dynamic inputs (random data).
    "resize_like": [{"dims": {"x": [1, 2, 3, 4], "skip": [1, 2, 6, 8]}},
                    {"dims": {"x": [1, 2, 5, 2], "skip": [1, 2, 3, 7]}}],
}


def write(d):
    os.makedirs(d, exist_ok=True)

    def save(graph, name, opset=17):
        m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], ir_version=8)
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(d, name + ".onnx"))

    save(h.make_graph([h.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
                      [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 4]),
                       h.make_tensor_value_info("shape", T.INT64, [3])],
                      [h.make_tensor_value_info("y", T.FLOAT, [None, None, None])]), "reshape")
    save(h.make_graph([h.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1)], "topk",
                      [h.make_tensor_value_info("x", T.FLOAT, [5, 10]),
                       h.make_tensor_value_info("k", T.INT64, [1])],
                      [h.make_tensor_value_info("v", T.FLOAT, [5, None]),
                       h.make_tensor_value_info("i", T.INT64, [5, None])]), "topk")
    save(h.make_graph([h.make_node("Range", ["start", "limit", "delta"], ["y"])], "range",
                      [h.make_tensor_value_info(n, T.INT64, []) for n in
                       ("start", "limit", "delta")],
                      [h.make_tensor_value_info("y", T.INT64, [None])]), "range")
    save(h.make_graph([h.make_node("Range", ["start", "limit", "delta"], ["y"])], "range_float",
                      [h.make_tensor_value_info(n, T.FLOAT, []) for n in
                       ("start", "limit", "delta")],
                      [h.make_tensor_value_info("y", T.FLOAT, [None])]), "range_float")
    save(h.make_graph([h.make_node("HannWindow", ["size"], ["p"]),
                       h.make_node("HannWindow", ["size"], ["s"], periodic=0)], "window",
                      [h.make_tensor_value_info("size", T.INT32, [])],
                      [h.make_tensor_value_info("p", T.FLOAT, [None]),
                       h.make_tensor_value_info("s", T.FLOAT, [None])]), "window")
    save(h.make_graph([h.make_node("ReduceSum", ["x", "axes"], ["kept"], keepdims=1),
                       h.make_node("ReduceSum", ["x", "axes"], ["dropped"], keepdims=0),
                       h.make_node("ReduceMean", ["x", "axes"], ["mean"], keepdims=0)],
                      "reduce_axes",
                      [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 4]),
                       h.make_tensor_value_info("axes", T.INT64, [2])],
                      [h.make_tensor_value_info("kept", T.FLOAT, [None] * 3),
                       h.make_tensor_value_info("dropped", T.FLOAT, [None]),
                       h.make_tensor_value_info("mean", T.FLOAT, [None])]), "reduce_axes",
         opset=18)
    save(h.make_graph([h.make_node("STFT", ["signal", "frame_step", "window"], ["y"])], "stft",
                      [h.make_tensor_value_info("signal", T.FLOAT, [1, 64, 1]),
                       h.make_tensor_value_info("frame_step", T.INT64, []),
                       h.make_tensor_value_info("window", T.FLOAT, [16])],
                      [h.make_tensor_value_info("y", T.FLOAT, [1, None, 9, 2])]), "stft")
    save(h.make_graph([h.make_node("DFT", ["x", "len"], ["half"], onesided=1),
                       h.make_node("DFT", ["x", "len"], ["full"]),
                       h.make_node("DFT", ["full", "len"], ["back"], inverse=1)], "dft",
                      [h.make_tensor_value_info("x", T.FLOAT, [2, "n", 1])],
                      [h.make_tensor_value_info("half", T.FLOAT, [2, 7, 2]),
                       h.make_tensor_value_info("back", T.FLOAT, [2, 12, 2])],
                      [onnx.numpy_helper.from_array(np.array(12, np.int64), "len")]), "dft")
    save(h.make_graph([h.make_node("CumSum", ["x", "axis"], ["y"]),
                       h.make_node("CumSum", ["x", "axis"], ["z"], exclusive=1, reverse=1)],
                      "cumsum",
                      [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 4]),
                       h.make_tensor_value_info("axis", T.INT64, [])],
                      [h.make_tensor_value_info("y", T.FLOAT, [2, 3, 4]),
                       h.make_tensor_value_info("z", T.FLOAT, [2, 3, 4])]), "cumsum")
    save(h.make_graph([h.make_node("Det", ["a"], ["da"]), h.make_node("Det", ["b"], ["db"])],
                      "det",
                      [h.make_tensor_value_info("a", T.FLOAT, [2, 3, 3]),
                       h.make_tensor_value_info("b", T.FLOAT, [4, 8, 8])],
                      [h.make_tensor_value_info("da", T.FLOAT, [2]),
                       h.make_tensor_value_info("db", T.FLOAT, [4])]), "det")
    save(h.make_graph([h.make_node("NonZero", ["x"], ["i"]), h.make_node("NonZero", ["x2"], ["j"])],
                      "nonzero",
                      [h.make_tensor_value_info("x", T.FLOAT, [3, 4]),
                       h.make_tensor_value_info("x2", T.FLOAT, ["n", "m"])],
                      [h.make_tensor_value_info("i", T.INT64, [2, None]),
                       h.make_tensor_value_info("j", T.INT64, [2, None])]), "nonzero")
    save(h.make_graph([h.make_node("Compress", ["x", "cond"], ["rows"], axis=0),
                       h.make_node("Compress", ["x", "flat"], ["picked"]),
                       h.make_node("Add", ["picked", "picked"], ["twice"])], "compress",
                      [h.make_tensor_value_info("x", T.FLOAT, [4, 3]),
                       h.make_tensor_value_info("cond", T.BOOL, [4]),
                       h.make_tensor_value_info("flat", T.BOOL, [12])],
                      [h.make_tensor_value_info("rows", T.FLOAT, [None, 3]),
                       h.make_tensor_value_info("twice", T.FLOAT, [None])]), "compress")
    # Overlapping, flipped and disjoint boxes; scores from a fixed draw.
    rng = np.random.default_rng(7)
    boxes = np.array([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [1, 1, 0, 0], [0, 10, 1, 11],
                       [0, 10.1, 1, 11.1], [0, 100, 1, 101]]] * 2, np.float32)
    boxes[1] += rng.uniform(-0.5, 0.5, boxes[1].shape).astype(np.float32)
    scores = rng.uniform(0, 1, (2, 2, 6)).astype(np.float32)
    save(h.make_graph([h.make_node("NonMaxSuppression", ["boxes", "scores", "max_output", "iou",
                                                         "score"], ["selected"])], "nms",
                      [h.make_tensor_value_info("max_output", T.INT64, [1]),
                       h.make_tensor_value_info("iou", T.FLOAT, [1]),
                       h.make_tensor_value_info("score", T.FLOAT, [1])],
                      [h.make_tensor_value_info("selected", T.INT64, [None, 3])],
                      [onnx.numpy_helper.from_array(boxes, "boxes"),
                       onnx.numpy_helper.from_array(scores, "scores")]), "nms")
    save(h.make_graph([h.make_node("Unique", ["x"], ["y", "yi", "yinv", "ycnt"]),
                       h.make_node("Unique", ["x"], ["u", "ui", "uinv", "ucnt"], sorted=0),
                       h.make_node("Unique", ["m"], ["r", "ri", "rinv", "rcnt"], axis=0)], "unique",
                      [h.make_tensor_value_info("x", T.FLOAT, [6]),
                       h.make_tensor_value_info("m", T.FLOAT, [4, 3])],
                      [h.make_tensor_value_info(n, T.FLOAT if n in ("y", "u") else T.INT64, [None])
                       for n in ("y", "yi", "yinv", "ycnt", "u", "ui", "uinv", "ucnt")] +
                      [h.make_tensor_value_info("r", T.FLOAT, [None, 3])] +
                      [h.make_tensor_value_info(n, T.INT64, [None]) for n in ("ri", "rinv", "rcnt")]),
         "unique", opset=11)
    save(h.make_graph([h.make_node("Split", ["x", "sizes"], ["a", "b", "c"], axis=0)], "split",
                      [h.make_tensor_value_info("x", T.FLOAT, [7, 2]),
                       h.make_tensor_value_info("sizes", T.INT64, [3])],
                      [h.make_tensor_value_info(n, T.FLOAT, [None, 2]) for n in "abc"]), "split",
         opset=13)
    save(h.make_graph([h.make_node("Compress", ["x", "cond"], ["kept"], axis=0),
                       h.make_node("Add", ["kept", "y"], ["z"])], "compress_add",
                      [h.make_tensor_value_info("x", T.FLOAT, [4, 3]),
                       h.make_tensor_value_info("cond", T.BOOL, [6]),
                       h.make_tensor_value_info("y", T.FLOAT, ["k", 3])],
                      [h.make_tensor_value_info("z", T.FLOAT, [None, 3])]), "compress_add")
    save(h.make_graph([h.make_node("Unique", ["x"], ["y", "yi", "yinv", "ycnt"]),
                       h.make_node("Unique", ["b"], ["v", "vi", "vinv", "vcnt"])], "unique_nan",
                      [h.make_tensor_value_info("x", T.FLOAT, [5]),
                       h.make_tensor_value_info("b", T.BOOL, [3])],
                      [h.make_tensor_value_info(n, T.FLOAT, [None]) for n in ("y",)] +
                      [h.make_tensor_value_info(n, T.INT64, [None]) for n in ("yi", "yinv", "ycnt")] +
                      [h.make_tensor_value_info("v", T.BOOL, [None])] +
                      [h.make_tensor_value_info(n, T.INT64, [None]) for n in ("vi", "vinv", "vcnt")]),
         "unique_nan", opset=11)
    save(h.make_graph([h.make_node("Compress", ["x", "cond"], ["kept"], axis=0),
                       h.make_node("NonZero", ["kept"], ["i"])], "chain",
                      [h.make_tensor_value_info("x", T.FLOAT, [6]),
                       h.make_tensor_value_info("cond", T.BOOL, [6])],
                      [h.make_tensor_value_info("i", T.INT64, [1, None])]), "chain")
    save(h.make_graph([h.make_node("Expand", ["x", "shape"], ["y"])], "expand",
                      [h.make_tensor_value_info("x", T.FLOAT, [3, 1]),
                       h.make_tensor_value_info("shape", T.INT64, [2])],
                      [h.make_tensor_value_info("y", T.FLOAT, [None, None])]), "expand")
    save(h.make_graph([h.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1),
                       h.make_node("ReduceSum", ["v", "axes"], ["y"], keepdims=1)], "topk_sum",
                      [h.make_tensor_value_info("x", T.FLOAT, [5, 10]),
                       h.make_tensor_value_info("k", T.INT64, [1])],
                      [h.make_tensor_value_info("y", T.FLOAT, [5, 1])],
                      [onnx.numpy_helper.from_array(np.array([1], np.int64), "axes")]), "topk_sum")
    save(h.make_graph([h.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")], "pad",
                      [h.make_tensor_value_info("x", T.FLOAT, [3, 4]),
                       h.make_tensor_value_info("pads", T.INT64, [4])],
                      [h.make_tensor_value_info("y", T.FLOAT, [None, None])]), "pad")
    save(h.make_graph([h.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])],
                      "slice",
                      [h.make_tensor_value_info("x", T.FLOAT, [5, 6])] +
                      [h.make_tensor_value_info(n, T.INT64, [2])
                       for n in ("starts", "ends", "axes", "steps")],
                      [h.make_tensor_value_info("y", T.FLOAT, [None, None])]), "slice")
    save(h.make_graph([h.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear")],
                      "resize",
                      [h.make_tensor_value_info("x", T.FLOAT, [1, 2, 3, 4]),
                       h.make_tensor_value_info("sizes", T.INT64, [4])],
                      [h.make_tensor_value_info("y", T.FLOAT, [None] * 4)]), "resize")
    save(h.make_graph([h.make_node("Shape", ["skip"], ["s"]),
                       h.make_node("Resize", ["x", "", "", "s"], ["y"], mode="cubic",
                                   coordinate_transformation_mode="align_corners")],
                      "resize_like",
                      [h.make_tensor_value_info("x", T.FLOAT, [1, 2, "h", "w"]),
                       h.make_tensor_value_info("skip", T.FLOAT, [1, 2, "h2", "w2"])],
                      [h.make_tensor_value_info("y", T.FLOAT, [1, 2, "h2", "w2"])]),
         "resize_like")


def check(kiln, art, model, name):
    import onnxruntime as ort
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    proto = onnx.load(model)
    rng = np.random.default_rng(0)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES[name]:
            feeds = {}
            for inp in proto.graph.input:
                dims = case.get("dims", {}).get(
                    inp.name, [d.dim_value for d in inp.type.tensor_type.shape.dim])
                if inp.name in case:
                    dtype = h.tensor_dtype_to_np_dtype(inp.type.tensor_type.elem_type)
                    x = np.array(case[inp.name], dtype).reshape(dims)
                else:
                    x = rng.standard_normal(dims).astype(np.float32)
                feeds[inp.name] = x
            label = " ".join(f"{k}={v}" for k, v in case.items() if k != "dims")
            label = label or " ".join(f"{k}={v}" for k, v in case["dims"].items())
            ok &= run_and_compare(
                kiln, art, tmp, feeds, sess, proto.graph.output, label,
                lambda got, want: (got.shape == want.shape and
                                   np.allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True), ""))
    print("all match" if ok else "MISMATCH")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        check(*sys.argv[2:6])
