// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @axis(%t: tensor<10x4xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{'kiln.gather' op axis 2 is out of range for rank 2}}
  %0 = kiln.gather %t[%i] axis = 2 : tensor<10x4xf32>, tensor<3xi64>
  return
}

// -----

func.func @float_indices(%t: tensor<10x4xf32>, %i: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.gather' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = "kiln.gather"(%t, %i) <{axis = 0 : i64}> : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}
