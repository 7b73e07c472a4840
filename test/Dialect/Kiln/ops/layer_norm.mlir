// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x16x512xf32>, %g: tensor<512xf32>, %b: tensor<512xf32>) -> (tensor<2x16x512xf32>, tensor<2x16x512xf32>) {
  // CHECK: kiln.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<2x16x512xf32>, tensor<512xf32>, tensor<512xf32>
  %0 = kiln.layer_norm %x, %g, %b {epsilon = 1.0e-6 : f32} : tensor<2x16x512xf32>, tensor<512xf32>, tensor<512xf32>
  // CHECK: kiln.layer_norm %{{.*}}, %{{.*}} : tensor<2x16x512xf32>, tensor<512xf32>
  %1 = kiln.layer_norm %x, %g : tensor<2x16x512xf32>, tensor<512xf32>
  return %0, %1 : tensor<2x16x512xf32>, tensor<2x16x512xf32>
}
