// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @not_a_perm(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op perm is not a permutation of [0, 2)}}
  %0 = kiln.transpose %x perm = [1, 1] : tensor<2x3xf32>
  return
}

// -----

func.func @length(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op perm has 3 entries, expected 2 (the input rank)}}
  %0 = kiln.transpose %x perm = [0, 1, 2] : tensor<2x3xf32>
  return
}
