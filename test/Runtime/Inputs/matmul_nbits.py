"""Test helper: `matmul_nbits.py DIR` makes MatMul models and quantizes
them with onnxruntime's own MatMulNBitsQuantizer (com.microsoft MatMulNBits:
4-bit symmetric and asymmetric with packed zero points, 8-bit, several
block sizes, a K that is not a multiple of the block, a bias (added to the node the
quantizer wrote), a batch of rows), and writes each quantized model with its input and the
output onnxruntime computes for it: NAME.onnx, NAME.x.npy, NAME.want.npy."""
import logging
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                             MatMulNBitsQuantizer)

CASES = [  # name, x shape, [K, N], bits, block, symmetric, bias
    ("q4sym", (1, 512), (512, 200), 4, 32, True, False),
    ("q4asym", (3, 512), (512, 96), 4, 128, False, False),
    ("q4oddk", (2, 200), (200, 64), 4, 64, False, False),   # K not a multiple of the block
    ("q8asym", (1, 256), (256, 136), 8, 32, False, False),
    ("q4rows", (2, 9, 256), (256, 64), 4, 32, False, False),  # packed panels (18 rows)
    ("q4bias", (4, 256), (256, 80), 4, 64, True, True),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    logging.getLogger().setLevel(logging.ERROR)
    for name, xs, (k, n), bits, block, symmetric, bias in CASES:
        rs = np.random.RandomState(k + n)
        w = (rs.randn(k, n) * 0.05).astype(np.float32)
        x = (rs.randn(*xs) * 0.5).astype(np.float32)
        inits = [numpy_helper.from_array(w, "w")]
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        out_shape = list(xs[:-1]) + [n]
        graph = helper.make_graph([node], name,
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xs))],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                                  inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=symmetric, bits=bits,
                                              op_types_to_quantize=("MatMul",))
        quant = MatMulNBitsQuantizer(model, block_size=block, is_symmetric=symmetric,
                                     algo_config=config, op_types_to_quantize=("MatMul",))
        quant.process()
        q = quant.model.model
        ops = [nd.op_type for nd in q.graph.node]
        assert ops == ["MatMulNBits"], (name, ops)
        if bias:  # input 5; 3 and 4 (zero points, g_idx) left empty
            nd = q.graph.node[0]
            while len(nd.input) < 5:
                nd.input.append("")
            nd.input.append("bias")
            q.graph.initializer.append(
                numpy_helper.from_array((rs.randn(n) * 0.1).astype(np.float32), "bias"))
        path = os.path.join(out, name + ".onnx")
        onnx.save(q, path)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        np.save(os.path.join(out, name + ".x.npy"), x)
        np.save(os.path.join(out, name + ".want.npy"), sess.run(None, {"x": x})[0])


if __name__ == "__main__":
    main()
