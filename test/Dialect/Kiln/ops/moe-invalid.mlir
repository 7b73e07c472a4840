// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @top_k(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>) {
  // expected-error @+1 {{'kiln.moe' op top_k = 9 exceeds the number of experts 8}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {top_k = 9 : i64} : tensor<16x64xf32>
  return
}

// -----

func.func @experts(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<6x64x128xf32>, %d: tensor<8x128x64xf32>) {
  // expected-error @+1 {{'kiln.moe' op gate_weight has 6 experts, router_weight has 8}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<6x64x128xf32>, tensor<6x64x128xf32>, tensor<8x128x64xf32>) {top_k = 2 : i64} : tensor<16x64xf32>
  return
}

// -----

func.func @groups(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>) {
  // expected-error @+1 {{'kiln.moe' op n_group = 3 does not divide the number of experts 8}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {top_k = 2 : i64, n_group = 3 : i64} : tensor<16x64xf32>
  return
}

// -----

func.func @group_budget(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>) {
  // expected-error @+1 {{'kiln.moe' op top_k = 4 exceeds the 2 experts in the 1 selected groups}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {top_k = 4 : i64, n_group = 4 : i64, topk_group = 1 : i64} : tensor<16x64xf32>
  return
}

// -----

func.func @down(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'kiln.moe' op down_weight has shape 8x64x128, expected [8, 128, 64]}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x64x128xf32>) {top_k = 2 : i64} : tensor<16x64xf32>
  return
}

// -----

func.func @bias(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.moe' op score_bias must be [num_experts] = [8], got 'tensor<4xf32>'}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) bias(%b : tensor<4xf32>) {top_k = 2 : i64} : tensor<16x64xf32>
  return
}

// -----

// Expert weights may be half under an f32 hidden state, not the reverse.
func.func @f32_experts_half_hidden(%x: tensor<16x64xf16>, %r: tensor<64x8xf16>, %g: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>) {
  // expected-error @+1 {{'kiln.moe' op expert weights have element type 'f32', expected 'f16' (the hidden state's) or f16/bf16 under an f32 hidden state}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf16>) experts(%g, %g, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {top_k = 2 : i64} : tensor<16x64xf16>
  return
}

// -----

func.func @mixed_experts(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf16>, %d: tensor<8x128x64xbf16>) {
  // expected-error @+1 {{'kiln.moe' op down_weight has element type 'bf16', expected 'f16' (the element type of gate_weight)}}
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %g, %d : tensor<8x64x128xf16>, tensor<8x64x128xf16>, tensor<8x128x64xbf16>) {top_k = 2 : i64} : tensor<16x64xf32>
  return
}
