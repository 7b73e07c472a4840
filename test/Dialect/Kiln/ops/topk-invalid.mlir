// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @too_many(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'kiln.topk' op k = 9 exceeds the size 8 of axis 1}}
  %v, %i = kiln.topk %x k = 9 axis = 1 : tensor<16x8xf32>
  return
}

// -----

func.func @zero(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'kiln.topk' op k must be positive, got 0}}
  %v, %i = kiln.topk %x k = 0 axis = 1 : tensor<16x8xf32>
  return
}
