// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @reduce
func.func @reduce(%x: tensor<2x3x4xf32>, %i: tensor<5x6xi64>) -> (tensor<2x3x1xf32>, tensor<3xf32>, tensor<5xi64>) {
  // CHECK: kiln.reduce mean %{{.*}} axes = [-1] keepdims : tensor<2x3x4xf32>
  %0 = kiln.reduce mean %x axes = [-1] keepdims : tensor<2x3x4xf32>
  // CHECK: kiln.reduce l2 %{{.*}} axes = [0, 2] : tensor<2x3x4xf32>
  %1 = kiln.reduce l2 %x axes = [0, 2] : tensor<2x3x4xf32>
  // CHECK: kiln.reduce max %{{.*}} axes = [1] : tensor<5x6xi64>
  %2 = kiln.reduce max %i axes = [1] : tensor<5x6xi64>
  return %0, %1, %2 : tensor<2x3x1xf32>, tensor<3xf32>, tensor<5xi64>
}

// Axes computed at run time: the rank is known, the extents are not.
// CHECK-LABEL: func.func @runtime_axes
func.func @runtime_axes(%x: tensor<2x3x4xf32>, %a: tensor<2xi64>) -> (tensor<?x?x?xf32>, tensor<?xf32>) {
  // CHECK: kiln.reduce sum %{{.*}} axes = [] runtime_axes %{{.*}} : tensor<2xi64> keepdims : tensor<2x3x4xf32>
  %0 = kiln.reduce sum %x axes = [] runtime_axes %a : tensor<2xi64> keepdims : tensor<2x3x4xf32>
  %1 = kiln.reduce max %x axes = [] runtime_axes %a : tensor<2xi64> : tensor<2x3x4xf32>
  return %0, %1 : tensor<?x?x?xf32>, tensor<?xf32>
}
