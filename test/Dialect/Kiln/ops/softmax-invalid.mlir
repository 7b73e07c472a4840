// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range for rank 2 (expected [-2, 2))}}
  %0 = kiln.softmax %x axis = 2 : tensor<2x8xf32>
  return
}

// -----

func.func @int(%x: tensor<2x8xi32>) {
  // expected-error @+1 {{'kiln.softmax' op operand #0 must be ranked tensor of floating-point values, but got 'tensor<2x8xi32>'}}
  %0 = "kiln.softmax"(%x) <{axis = 1 : i64}> : (tensor<2x8xi32>) -> tensor<2x8xi32>
  return
}
