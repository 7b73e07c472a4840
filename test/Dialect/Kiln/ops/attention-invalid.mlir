// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @heads(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>) {
  // expected-error @+1 {{'kiln.attention' op query heads (8) must be a multiple of key/value heads (3)}}
  %0 = kiln.attention %q, %k, %k : tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @head_dim(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'kiln.attention' op query head_dim 64 differs from key head_dim 32}}
  %0 = kiln.attention %q, %k, %k : tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

func.func @rank(%q: tensor<8x16x64xf32>) {
  // expected-error @+1 {{'kiln.attention' op query must be [batch, heads, seq, head_dim], got rank 3}}
  %0 = kiln.attention %q, %q, %q : tensor<8x16x64xf32>, tensor<8x16x64xf32>, tensor<8x16x64xf32> -> tensor<8x16x64xf32>
  return
}

// -----

func.func @mask(%q: tensor<1x8x16x64xf32>, %m: tensor<1x1x16x32xf32>) {
  // expected-error @+1 {{'kiln.attention' op mask of shape 1x1x16x32 does not broadcast to the scores [batch, q_heads, q_len, kv_len] of shape 1x8x16x16}}
  %0 = kiln.attention %q, %q, %q mask(%m : tensor<1x1x16x32xf32>) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @result(%q: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'kiln.attention' op result 0 has type 'tensor<1x8x16x64xf32>', expected 'tensor<1x8x16x32xf32>'}}
  %0 = kiln.attention %q, %q, %v : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @present(%q: tensor<1x8x1x64xf32>, %p: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'kiln.attention' op expected 2 present results (with a past cache), got 0}}
  %0 = kiln.attention %q, %q, %q past(%p, %p : tensor<1x8x4x64xf32>, tensor<1x8x4x64xf32>) : tensor<1x8x1x64xf32>, tensor<1x8x1x64xf32>, tensor<1x8x1x64xf32> -> tensor<1x8x1x64xf32>
  return
}

// -----

func.func @present_len(%q: tensor<1x8x1x64xf32>, %p: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'kiln.attention' op result 1 has type 'tensor<1x8x4x64xf32>', expected 'tensor<1x8x5x64xf32>'}}
  %0:3 = kiln.attention %q, %q, %q past(%p, %p : tensor<1x8x4x64xf32>, tensor<1x8x4x64xf32>) : tensor<1x8x1x64xf32>, tensor<1x8x1x64xf32>, tensor<1x8x1x64xf32> -> tensor<1x8x1x64xf32>, tensor<1x8x4x64xf32>, tensor<1x8x4x64xf32>
  return
}

// -----

func.func @zero_softcap(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'kiln.attention' op softcap must be positive (leave it out for none), got 0}}
  %o = kiln.attention %q, %k, %v {softcap = 0.0 : f32} : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
