// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @k_mismatch(%a: tensor<2x8xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'kiln.matmul' op contracting dimensions differ: lhs 2x8 has K=8, rhs 4x3 has K=4}}
  %0 = kiln.matmul %a, %b : tensor<2x8xf32>, tensor<4x3xf32>
  return
}

// -----

func.func @batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x4xf32>) {
  // expected-error @+1 {{'kiln.matmul' op operands are not broadcast-compatible: shapes 2, 3}}
  %0 = kiln.matmul %a, %b : tensor<2x4x8xf32>, tensor<3x8x4xf32>
  return
}

// -----

func.func @scalar(%a: tensor<f32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.matmul' op operands must have rank >= 1}}
  %0 = kiln.matmul %a, %b : tensor<f32>, tensor<3xf32>
  return
}
