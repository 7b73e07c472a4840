// RUN: kiln-opt %s -split-input-file --kiln-to-linalg | FileCheck %s

// Constant padding is tensor.pad with static amounts.
// CHECK-LABEL: func.func @constant
// CHECK: tensor.pad %arg0 low[1, 2] high[0, 3]
func.func @constant(%x: tensor<3x4xf32>) -> tensor<4x9xf32> {
  %0 = kiln.pad %x pads = [1, 2, 0, 3] : tensor<3x4xf32>
  return %0 : tensor<4x9xf32>
}

// -----

// Pads given at run time (an input's values): read per run, refused when
// negative (cropping), and the result's dims are the input's plus both pads.
// CHECK-LABEL: func.func @runtime_pads
// CHECK: %[[P0:.*]] = tensor.extract %arg1[%c0]
// CHECK: %[[L0:.*]] = arith.index_cast %[[P0]]
// CHECK: cf.assert %{{.*}}, "{{.*}}pads by {0}: pads must be 0 to 2^48
// CHECK: tensor.pad %arg0 low[%[[L0]], %{{.*}}] high[%{{.*}}, %{{.*}}]
// CHECK: } : tensor<3x4xf32> to tensor<?x?xf32>
func.func @runtime_pads(%x: tensor<3x4xf32>, %p: tensor<4xi64>) -> tensor<?x?xf32> {
  %0 = kiln.pad %x runtime_pads %p : tensor<4xi64> pads = [] : tensor<3x4xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Reflect with run-time pads: one generic over the grown shape, reading
// the input at the mirrored index.
// CHECK-LABEL: func.func @runtime_reflect
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
func.func @runtime_reflect(%x: tensor<3x4xf32>, %p: tensor<4xi64>) -> tensor<?x?xf32> {
  %0 = kiln.pad %x runtime_pads %p : tensor<4xi64> pads = [] {mode = #kiln<pad_mode reflect>} : tensor<3x4xf32>
  return %0 : tensor<?x?xf32>
}
