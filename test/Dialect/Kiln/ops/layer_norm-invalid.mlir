// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @scale_shape(%x: tensor<2x16x512xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op scale of shape 16 does not broadcast to the normalized dimensions of shape 512: dimension 0 is 16, expected 1 or 512}}
  %0 = kiln.layer_norm %x, %g : tensor<2x16x512xf32>, tensor<16xf32>
  return
}

// -----

func.func @bias_dtype(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf16>) {
  // expected-error @+1 {{'kiln.layer_norm' op bias has element type 'f16', expected 'f32' (the input's)}}
  %0 = kiln.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf16>
  return
}
