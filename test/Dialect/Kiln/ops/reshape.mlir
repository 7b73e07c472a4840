// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @reshape
func.func @reshape(%x: tensor<2x12xf32>, %y: tensor<?x64xf32>, %s: tensor<3xi64>)
    -> (tensor<2x3x4xf32>, tensor<?x8x8xf32>, tensor<?x?x8xf32>) {
  // CHECK: kiln.reshape %{{.*}} : tensor<2x12xf32> -> tensor<2x3x4xf32>
  %0 = kiln.reshape %x : tensor<2x12xf32> -> tensor<2x3x4xf32>
  // One dynamic result dim is implied by the element count.
  // CHECK: kiln.reshape %{{.*}} : tensor<?x64xf32> -> tensor<?x8x8xf32>
  %1 = kiln.reshape %y : tensor<?x64xf32> -> tensor<?x8x8xf32>
  // More need the runtime shape.
  // CHECK: kiln.reshape %{{.*}} shape %{{.*}} : tensor<3xi64> : tensor<?x64xf32> -> tensor<?x?x8xf32>
  %2 = kiln.reshape %y shape %s : tensor<3xi64> : tensor<?x64xf32> -> tensor<?x?x8xf32>
  return %0, %1, %2 : tensor<2x3x4xf32>, tensor<?x8x8xf32>, tensor<?x?x8xf32>
}
