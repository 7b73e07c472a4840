// RUN: kiln-opt %s -kiln-infer-shapes -split-input-file | FileCheck %s

// A reshape's single dynamic dimension is computed once the input is static,
// and the refinement flows into the inferred ops after it and the signature.
// CHECK-LABEL: func.func @through_reshape
// CHECK-SAME: -> tensor<4x8x8xf32>
// CHECK: kiln.reshape %{{.*}} : tensor<4x64xf32> -> tensor<4x8x8xf32>
// CHECK: kiln.unary exp %{{.*}} : tensor<4x8x8xf32>
// CHECK: return %{{.*}} : tensor<4x8x8xf32>
func.func @through_reshape(%x: tensor<4x64xf32>) -> tensor<?x8x8xf32> {
  %0 = kiln.reshape %x : tensor<4x64xf32> -> tensor<?x8x8xf32>
  %1 = kiln.unary exp %0 : tensor<?x8x8xf32>
  return %1 : tensor<?x8x8xf32>
}

// -----

// Upstream users keep the type they were built with, through a tensor.cast.
// CHECK-LABEL: func.func @upstream_user
// CHECK: %[[R:.*]] = kiln.reshape %{{.*}} : tensor<6xf32> -> tensor<2x3xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[R]] : tensor<2x3xf32> to tensor<?x3xf32>
// CHECK: tensor.dim %[[C]]
func.func @upstream_user(%x: tensor<6xf32>) -> index {
  %0 = kiln.reshape %x : tensor<6xf32> -> tensor<?x3xf32>
  %c0 = arith.constant 0 : index
  %d = tensor.dim %0, %c0 : tensor<?x3xf32>
  return %d : index
}

// -----

// Casts keep their input's shape.
// CHECK-LABEL: func.func @cast
// CHECK: kiln.cast %{{.*}} : tensor<2x5xf32> to tensor<2x5xf16>
func.func @cast(%x: tensor<2x5xf32>) -> tensor<?x?xf16> {
  %0 = kiln.cast %x : tensor<2x5xf32> to tensor<?x?xf16>
  return %0 : tensor<?x?xf16>
}
