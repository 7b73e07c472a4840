// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @range
func.func @range(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>) -> tensor<?xi64> {
  // CHECK: kiln.range %{{.*}}, %{{.*}}, %{{.*}} : tensor<i64>
  %0 = kiln.range %s, %l, %d : tensor<i64>
  return %0 : tensor<?xi64>
}

// CHECK-LABEL: func.func @trilu
func.func @trilu(%x: tensor<2x?x?xf32>, %k: tensor<i64>) -> (tensor<2x?x?xf32>, tensor<2x?x?xf32>) {
  // CHECK: kiln.trilu %{{.*}} k %{{.*}} : tensor<i64> upper : tensor<2x?x?xf32>
  %0 = kiln.trilu %x k %k : tensor<i64> upper : tensor<2x?x?xf32>
  // CHECK: kiln.trilu %{{.*}} : tensor<2x?x?xf32>
  %1 = kiln.trilu %x : tensor<2x?x?xf32>
  return %0, %1 : tensor<2x?x?xf32>, tensor<2x?x?xf32>
}

// Resize with scales known only at run time, and a reshape whose target
// follows ONNX rules at run time (0 keeps the input extent with allowzero off).
// CHECK-LABEL: func.func @runtime_shapes
func.func @runtime_shapes(%x: tensor<1x3x8x8xf32>, %sc: tensor<4xf32>, %shape: tensor<3xi64>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  // CHECK: kiln.resize %{{.*}} scales %{{.*}} : tensor<4xf32> {mode = #kiln<resize_mode linear>} : tensor<1x3x8x8xf32> -> tensor<?x?x?x?xf32>
  %0 = kiln.resize %x scales %sc : tensor<4xf32> {mode = #kiln<resize_mode linear>} : tensor<1x3x8x8xf32> -> tensor<?x?x?x?xf32>
  // CHECK: kiln.reshape %{{.*}} shape %{{.*}} : tensor<3xi64> {allowzero} : tensor<1x3x8x8xf32> -> tensor<?x?x?xf32>
  %1 = kiln.reshape %x shape %shape : tensor<3xi64> {allowzero} : tensor<1x3x8x8xf32> -> tensor<?x?x?xf32>
  return %0, %1 : tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}
