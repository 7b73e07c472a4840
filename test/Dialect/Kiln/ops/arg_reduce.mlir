// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @argmax
func.func @argmax(%x: tensor<2x3x4xf32>) -> (tensor<2x4xi64>, tensor<2x3x1xi64>) {
  // CHECK: kiln.arg_reduce argmax %{{.*}} axis = 1 : tensor<2x3x4xf32>
  %0 = kiln.arg_reduce argmax %x axis = 1 : tensor<2x3x4xf32>
  // CHECK: kiln.arg_reduce argmin %{{.*}} axis = -1 keepdims select_last_index : tensor<2x3x4xf32>
  %1 = kiln.arg_reduce argmin %x axis = -1 keepdims select_last_index : tensor<2x3x4xf32>
  return %0, %1 : tensor<2x4xi64>, tensor<2x3x1xi64>
}
