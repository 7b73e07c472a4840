// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.cast' op result shape 3x2 differs from input shape 2x3}}
  %0 = kiln.cast %x : tensor<2x3xf32> to tensor<3x2xf16>
  return
}

// -----

func.func @rank(%x: tensor<6xf32>) {
  // expected-error @+1 {{'kiln.cast' op result rank 2 differs from input rank 1}}
  %0 = kiln.cast %x : tensor<6xf32> to tensor<2x3xf32>
  return
}
