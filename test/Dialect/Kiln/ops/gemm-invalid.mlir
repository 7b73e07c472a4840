// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @k(%a: tensor<4x8xf32>, %b: tensor<6x8xf32>) {
  // expected-error @+1 {{'kiln.gemm' op contracting dimensions differ: op(A) is 4x8, op(B) is 6x8}}
  %0 = kiln.gemm %a, %b : tensor<4x8xf32>, tensor<6x8xf32>
  return
}

// -----

func.func @c(%a: tensor<4x8xf32>, %b: tensor<8x6xf32>, %c: tensor<5xf32>) {
  // expected-error @+1 {{'kiln.gemm' op C of shape 5 does not broadcast to the result of shape 4x6}}
  %0 = kiln.gemm %a, %b, %c : tensor<4x8xf32>, tensor<8x6xf32>, tensor<5xf32>
  return
}

// -----

func.func @rank(%a: tensor<2x4x8xf32>, %b: tensor<8x6xf32>) {
  // expected-error @+1 {{'kiln.gemm' op A and B must be 2-D, got 2x4x8 and 8x6}}
  %0 = kiln.gemm %a, %b : tensor<2x4x8xf32>, tensor<8x6xf32>
  return
}
