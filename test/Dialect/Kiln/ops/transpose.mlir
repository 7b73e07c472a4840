// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @heads
func.func @heads(%x: tensor<1x128x8x64xf32>) -> tensor<1x8x128x64xf32> {
  // CHECK: kiln.transpose %{{.*}} perm = [0, 2, 1, 3] : tensor<1x128x8x64xf32>
  %0 = kiln.transpose %x perm = [0, 2, 1, 3] : tensor<1x128x8x64xf32>
  return %0 : tensor<1x8x128x64xf32>
}
