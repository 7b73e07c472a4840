// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @rms_norm
func.func @rms_norm(%x: tensor<1x?x512xf32>, %w: tensor<512xf32>) -> tensor<1x?x512xf32> {
  // CHECK: kiln.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<1x?x512xf32>, tensor<512xf32>
  %0 = kiln.rms_norm %x, %w {epsilon = 1.0e-5 : f32} : tensor<1x?x512xf32>, tensor<512xf32>
  return %0 : tensor<1x?x512xf32>
}
