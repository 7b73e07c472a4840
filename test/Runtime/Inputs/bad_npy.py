"""Test helper: `bad_npy.py DIR` writes .npy and ONNX .pb input files whose
headers lie or break: each names its defect."""
import os
import sys

from onnx import TensorProto


def npy(path, header, data=b""):
    header = header.encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    npy(f"{d}/letter_dim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (a, 4), }")
    npy(f"{d}/huge_dim.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 4), }")
    npy(f"{d}/cut.npy", "{'descr': '<f4', 'fortran_order': False, 'shape':")
    npy(f"{d}/open_tuple.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4")
    npy(f"{d}/tera.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }",
        b"\0" * 16)
    npy(f"{d}/overflow.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }")
    npy(f"{d}/wide_str.npy", "{'descr': '<U999999999999', 'fortran_order': False, 'shape': (2,), }",
        b"\0" * 16)
    npy(f"{d}/short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
        b"\0" * 60)
    t = TensorProto()
    t.name, t.data_type = "x", TensorProto.FLOAT
    t.dims.extend([1 << 20, 1 << 20])
    t.float_data.append(1.0)
    with open(f"{d}/one_value.pb", "wb") as f:
        f.write(t.SerializeToString())
    t.dims[:] = [1 << 32, 1 << 32]
    with open(f"{d}/overflow.pb", "wb") as f:
        f.write(t.SerializeToString())
    t.dims[:] = [1] * 200000
    with open(f"{d}/rank.pb", "wb") as f:
        f.write(t.SerializeToString())
    npy(f"{d}/rank.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1," * 100 + "), }",
        b"\0" * 4)
    # A model input of rank 200,000.
    from onnx import helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 200000)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    with open(f"{d}/rank.onnx", "wb") as f:
        f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


if __name__ == "__main__":
    main()
