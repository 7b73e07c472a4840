// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{'kiln.reshape' op cannot reshape 24 elements (2x12) into 25 (5x5)}}
  %0 = kiln.reshape %x : tensor<2x12xf32> -> tensor<5x5xf32>
  return
}

// -----

func.func @two_dynamic(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'kiln.reshape' op result 'tensor<?x?x8xf32>' has 2 dynamic dimensions; without a shape operand at most one can be implied}}
  %0 = kiln.reshape %x : tensor<?x64xf32> -> tensor<?x?x8xf32>
  return
}

// -----

func.func @shape_len(%x: tensor<?x64xf32>, %s: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.reshape' op shape operand has 2 entries but the result has rank 3}}
  %0 = kiln.reshape %x shape %s : tensor<2xi64> : tensor<?x64xf32> -> tensor<?x?x8xf32>
  return
}
