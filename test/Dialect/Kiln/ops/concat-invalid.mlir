// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @other_dim(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'kiln.concat' op input 1 has shape 4x5, which differs from 2x3 outside the concatenation axis (dimension 0)}}
  %0 = kiln.concat %a, %b axis = 1 : tensor<2x3xf32>, tensor<4x5xf32>
  return
}

// -----

func.func @dtype(%a: tensor<2xf32>, %b: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.concat' op input 1 has element type 'i64', expected 'f32'}}
  %0 = kiln.concat %a, %b axis = 0 : tensor<2xf32>, tensor<2xi64>
  return
}
