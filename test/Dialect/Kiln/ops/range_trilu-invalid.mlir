// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @range_vector(%s: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.range' op start, limit and delta must be scalars, got 'tensor<2xi64>'}}
  %0 = kiln.range %s, %s, %s : tensor<2xi64>
  return
}

// -----

func.func @range_bool(%s: tensor<i1>) {
  // expected-error @+1 {{'kiln.range' op needs a numeric type, got 'i1'}}
  %0 = kiln.range %s, %s, %s : tensor<i1>
  return
}

// -----

func.func @trilu_vector(%x: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.trilu' op input must have rank >= 2, got 1}}
  %0 = kiln.trilu %x : tensor<8xf32>
  return
}

// -----

func.func @resize_both(%x: tensor<1x3x8x8xf32>, %sc: tensor<4xf32>, %sz: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.resize' op give runtime scales or runtime sizes, not both}}
  %0 = kiln.resize %x scales %sc : tensor<4xf32> sizes %sz : tensor<4xi64> : tensor<1x3x8x8xf32> -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_count(%x: tensor<1x3x8x8xf32>, %sc: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.resize' op runtime scales/sizes have 3 entries for rank 4}}
  %0 = kiln.resize %x scales %sc : tensor<3xf32> : tensor<1x3x8x8xf32> -> tensor<?x?x?x?xf32>
  return
}
