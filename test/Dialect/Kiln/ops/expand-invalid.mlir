// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @shrink(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{'kiln.expand' op input of shape 3x4 does not broadcast to the result of shape 2x4: dimension 0 is 3, expected 1 or 2}}
  %0 = kiln.expand %x : tensor<3x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @dtype(%x: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.expand' op result element type 'f16' differs from input element type 'f32'}}
  %0 = kiln.expand %x : tensor<4xf32> -> tensor<2x4xf16>
  return
}
