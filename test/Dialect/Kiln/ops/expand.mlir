// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @repeat_kv
func.func @repeat_kv(%k: tensor<1x2x1x16x64xf32>) -> tensor<1x2x4x16x64xf32> {
  // CHECK: kiln.expand %{{.*}} : tensor<1x2x1x16x64xf32> -> tensor<1x2x4x16x64xf32>
  %0 = kiln.expand %k : tensor<1x2x1x16x64xf32> -> tensor<1x2x4x16x64xf32>
  return %0 : tensor<1x2x4x16x64xf32>
}
