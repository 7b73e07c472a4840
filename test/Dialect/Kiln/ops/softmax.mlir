// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x8x?xf32>) -> (tensor<2x8x?xf32>, tensor<2x8x?xf32>) {
  // CHECK: kiln.softmax %{{.*}} axis = -1 : tensor<2x8x?xf32>
  %0 = kiln.softmax %x axis = -1 : tensor<2x8x?xf32>
  // CHECK: kiln.softmax %{{.*}} axis = 1 log : tensor<2x8x?xf32>
  %1 = kiln.softmax %x axis = 1 log : tensor<2x8x?xf32>
  return %0, %1 : tensor<2x8x?xf32>, tensor<2x8x?xf32>
}
