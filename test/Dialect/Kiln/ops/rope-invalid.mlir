// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @odd(%q: tensor<1x8x16x64xf32>, %c: tensor<16x33xf32>) {
  // expected-error @+1 {{'kiln.rope' op rotary dimension (last dimension of cos/sin) must be even, got 33}}
  %0 = kiln.rope %q, %c, %c : tensor<1x8x16x64xf32>, tensor<16x33xf32>, tensor<16x33xf32>
  return
}

// -----

func.func @too_wide(%q: tensor<1x8x16x64xf32>, %c: tensor<16x128xf32>) {
  // expected-error @+1 {{'kiln.rope' op rotary dimension 128 exceeds the input's feature size 64}}
  %0 = kiln.rope %q, %c, %c : tensor<1x8x16x64xf32>, tensor<16x128xf32>, tensor<16x128xf32>
  return
}

// -----

func.func @positions(%q: tensor<1x8x16x64xf32>, %c: tensor<32x64xf32>) {
  // expected-error @+1 {{'kiln.rope' op cos/sin (without the rotary dimension) of shape 32 does not broadcast to the input (without the feature dimension) of shape 1x8x16}}
  %0 = kiln.rope %q, %c, %c : tensor<1x8x16x64xf32>, tensor<32x64xf32>, tensor<32x64xf32>
  return
}

// -----

func.func @cos_sin(%q: tensor<1x8x16x64xf32>, %c: tensor<16x64xf32>, %s: tensor<16x32xf32>) {
  // expected-error @+1 {{'kiln.rope' op cos and sin must have the same type, got 'tensor<16x64xf32>' and 'tensor<16x32xf32>'}}
  %0 = kiln.rope %q, %c, %s : tensor<1x8x16x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>
  return
}
