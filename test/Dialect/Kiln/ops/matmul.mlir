// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<4x128x64xf32>, %b: tensor<64x32xf32>, %v: tensor<64xf32>, %d: tensor<?x?x64xf16>, %e: tensor<64x?xf16>)
    -> (tensor<4x128x32xf32>, tensor<4x128xf32>, tensor<?x?x?xf16>) {
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<4x128x64xf32>, tensor<64x32xf32>
  %0 = kiln.matmul %a, %b : tensor<4x128x64xf32>, tensor<64x32xf32>
  // A 1-D rhs is a vector: its dimension disappears from the result.
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<4x128x64xf32>, tensor<64xf32>
  %1 = kiln.matmul %a, %v : tensor<4x128x64xf32>, tensor<64xf32>
  %2 = kiln.matmul %d, %e : tensor<?x?x64xf16>, tensor<64x?xf16>
  return %0, %1, %2 : tensor<4x128x32xf32>, tensor<4x128xf32>, tensor<?x?x?xf16>
}
