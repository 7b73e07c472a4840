// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @causal_mask
func.func @causal_mask(%c: tensor<8x8xi1>, %s: tensor<2x4x8x8xf32>, %ninf: tensor<f32>) -> tensor<2x4x8x8xf32> {
  // CHECK: kiln.where %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x8xi1>, tensor<2x4x8x8xf32>, tensor<f32>
  %0 = kiln.where %c, %s, %ninf : tensor<8x8xi1>, tensor<2x4x8x8xf32>, tensor<f32>
  return %0 : tensor<2x4x8x8xf32>
}
