// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<8x4xf32>, %b: tensor<6x8xf32>, %c: tensor<6xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>) {
  // CHECK: kiln.gemm %{{.*}}, %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f32, trans_a, trans_b} : tensor<8x4xf32>, tensor<6x8xf32>, tensor<6xf32>
  %0 = kiln.gemm %a, %b, %c {alpha = 0.5 : f32, trans_a, trans_b} : tensor<8x4xf32>, tensor<6x8xf32>, tensor<6xf32>
  // CHECK: kiln.gemm %{{.*}}, %{{.*}} {trans_a, trans_b} : tensor<8x4xf32>, tensor<6x8xf32>
  %1 = kiln.gemm %a, %b {trans_a, trans_b} : tensor<8x4xf32>, tensor<6x8xf32>
  return %0, %1 : tensor<4x6xf32>, tensor<4x6xf32>
}
