// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @cast
func.func @cast(%x: tensor<2x?xf32>) -> (tensor<2x?xbf16>, tensor<2x?xi64>) {
  // CHECK: kiln.cast %{{.*}} : tensor<2x?xf32> to tensor<2x?xbf16>
  %0 = kiln.cast %x : tensor<2x?xf32> to tensor<2x?xbf16>
  // CHECK: kiln.cast %{{.*}} : tensor<2x?xf32> to tensor<2x?xi64>
  %1 = kiln.cast %x : tensor<2x?xf32> to tensor<2x?xi64>
  return %0, %1 : tensor<2x?xbf16>, tensor<2x?xi64>
}
