// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @axis(%c: tensor<2x8xf32>, %u: tensor<2x1xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op axis 2 is outside the cache's 2 dims}}
  %0 = kiln.cache_append %c, %u at %n axis = 2 : tensor<2x8xf32>, tensor<2x1xf32>, tensor<1xi64> -> tensor<2x?xf32>
  return
}

// -----

func.func @other_dim(%c: tensor<2x8xf32>, %u: tensor<3x1xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op update dim 0 is 3, the cache's is 2}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x8xf32>, tensor<3x1xf32>, tensor<1xi64> -> tensor<2x?xf32>
  return
}

// -----

func.func @dynamic_capacity(%c: tensor<2x?xf32>, %u: tensor<2x1xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op the cache's dim 1 (its capacity) must be static}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x?xf32>, tensor<2x1xf32>, tensor<1xi64> -> tensor<2x?xf32>
  return
}

// -----

func.func @too_many(%c: tensor<2x8xf32>, %u: tensor<2x9xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op update of 9 entries exceeds the cache's 8}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x8xf32>, tensor<2x9xf32>, tensor<1xi64> -> tensor<2x?xf32>
  return
}

// -----

func.func @dtype(%c: tensor<2x8xf32>, %u: tensor<2x1xf16>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op update element type 'f16' is not the cache's 'f32'}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x8xf32>, tensor<2x1xf16>, tensor<1xi64> -> tensor<2x?xf32>
  return
}

// -----

func.func @result(%c: tensor<2x8xf32>, %u: tensor<2x1xf32>, %n: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op result dim 0 is 4, the cache's is 2}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x8xf32>, tensor<2x1xf32>, tensor<1xi64> -> tensor<4x?xf32>
  return
}

// -----

func.func @length(%c: tensor<2x8xf32>, %u: tensor<2x1xf32>, %n: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.cache_append' op length must hold one entry, got 'tensor<2xi64>'}}
  %0 = kiln.cache_append %c, %u at %n axis = 1 : tensor<2x8xf32>, tensor<2x1xf32>, tensor<2xi64> -> tensor<2x?xf32>
  return
}
