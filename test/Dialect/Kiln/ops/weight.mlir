// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt --mlir-print-op-generic %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @weights
// CHECK: kiln.weight "layers.0.wq" from "model.onnx.data" at 4096 : tensor<16x16xf32>
// CHECK: kiln.weight "emb" from "model.onnx" at 0 : tensor<100x8xbf16>
func.func @weights() -> (tensor<16x16xf32>, tensor<100x8xbf16>) {
  %0 = kiln.weight "layers.0.wq" from "model.onnx.data" at 4096 : tensor<16x16xf32>
  %1 = kiln.weight "emb" from "model.onnx" at 0 : tensor<100x8xbf16>
  return %0, %1 : tensor<16x16xf32>, tensor<100x8xbf16>
}
