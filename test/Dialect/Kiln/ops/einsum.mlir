// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @einsum
func.func @einsum(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %m: tensor<3x3xf32>, %e: tensor<7x2x3xf32>, %f: tensor<7x3x4xf32>)
    -> (tensor<2x3x5xf32>, tensor<f32>, tensor<3xf32>, tensor<7x2x4xf32>) {
  // CHECK: kiln.einsum "bij,bjk->bik" %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  %0 = kiln.einsum "bij,bjk->bik" %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  // Trace: implicit output drops the repeated label.
  %1 = kiln.einsum "ii" %m : tensor<3x3xf32>
  %2 = kiln.einsum "ii->i" %m : tensor<3x3xf32>
  // Ellipsis broadcasting.
  // CHECK: kiln.einsum "...ij,...jk->...ik"
  %3 = kiln.einsum "...ij,...jk->...ik" %e, %f : tensor<7x2x3xf32>, tensor<7x3x4xf32>
  return %0, %1, %2, %3 : tensor<2x3x5xf32>, tensor<f32>, tensor<3xf32>, tensor<7x2x4xf32>
}
