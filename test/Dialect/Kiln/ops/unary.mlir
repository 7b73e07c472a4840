// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<2x?xf32>, %b: tensor<4xi1>, %i: tensor<4xi32>)
    -> (tensor<2x?xf32>, tensor<2x?xf32>, tensor<4xi1>, tensor<4xi32>, tensor<2x?xi1>) {
  // CHECK: kiln.unary silu %{{.*}} : tensor<2x?xf32>
  %0 = kiln.unary silu %x : tensor<2x?xf32>
  // CHECK: kiln.unary gelu_tanh
  %1 = kiln.unary gelu_tanh %0 : tensor<2x?xf32>
  // CHECK: kiln.unary not %{{.*}} : tensor<4xi1>
  %2 = kiln.unary not %b : tensor<4xi1>
  // CHECK: kiln.unary abs %{{.*}} : tensor<4xi32>
  %3 = kiln.unary abs %i : tensor<4xi32>
  // is_nan infers an i1 result.
  // CHECK: kiln.unary is_nan %{{.*}} : tensor<2x?xf32>
  %4 = kiln.unary is_nan %x : tensor<2x?xf32>
  return %1, %0, %2, %3, %4 : tensor<2x?xf32>, tensor<2x?xf32>, tensor<4xi1>, tensor<4xi32>, tensor<2x?xi1>
}
