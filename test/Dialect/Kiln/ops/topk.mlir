// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @router_topk
func.func @router_topk(%scores: tensor<16x8xf32>) -> (tensor<16x2xf32>, tensor<16x2xi64>) {
  // CHECK: kiln.topk %{{.*}} k = 2 axis = -1 : tensor<16x8xf32>
  %v, %i = kiln.topk %scores k = 2 axis = -1 : tensor<16x8xf32>
  return %v, %i : tensor<16x2xf32>, tensor<16x2xi64>
}

// CHECK-LABEL: func.func @smallest
func.func @smallest(%x: tensor<?x8xf32>) -> tensor<?x3xf32> {
  // CHECK: kiln.topk %{{.*}} k = 3 axis = 1 {largest = false} : tensor<?x8xf32>
  %v, %i = kiln.topk %x k = 3 axis = 1 {largest = false} : tensor<?x8xf32>
  return %v : tensor<?x3xf32>
}
