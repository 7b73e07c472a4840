// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @weight(%x: tensor<1x16x512xf32>, %w: tensor<256xf32>) {
  // expected-error @+1 {{'kiln.rms_norm' op weight of shape 256 does not broadcast to the normalized dimensions of shape 512}}
  %0 = kiln.rms_norm %x, %w : tensor<1x16x512xf32>, tensor<256xf32>
  return
}

// -----

func.func @axis(%x: tensor<4x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.rms_norm' op axis 5 is out of range for rank 2}}
  %0 = kiln.rms_norm %x, %w {axis = 5 : i64} : tensor<4x8xf32>, tensor<8xf32>
  return
}
