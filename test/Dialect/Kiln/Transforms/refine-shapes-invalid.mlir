// RUN: kiln-opt %s -kiln-refine-shapes -split-input-file -verify-diagnostics

// A constant reshape target ONNX rejects is reported at the reshape.
func.func @two_minus_ones(%x: tensor<6xf32>) -> tensor<?x?xf32> {
  %t = arith.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.reshape' op shape has more than one -1}}
  %r = kiln.reshape %x shape %t : tensor<2xi64> : tensor<6xf32> -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// A constant expand target that does not broadcast with the input.
func.func @expand_mismatch(%x: tensor<3x4xf32>) -> tensor<?x?xf32> {
  %t = arith.constant dense<[2, 4]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.expand' op operands are not broadcast-compatible}}
  %e = kiln.expand %x shape %t : tensor<2xi64> : tensor<3x4xf32> -> tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}

// -----

// A constant target contradicting a static dim of the declared result.
func.func @contradiction(%x: tensor<6xf32>) -> tensor<?x4xf32> {
  %t = arith.constant dense<[2, 3]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.reshape' op constant target gives dim 1 = 3 but the result type 'tensor<?x4xf32>' says 4}}
  %r = kiln.reshape %x shape %t : tensor<2xi64> : tensor<6xf32> -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A negative expand target (ONNX has no -1 for Expand).
func.func @negative_expand(%x: tensor<1x4xf32>) -> tensor<?x?xf32> {
  %t = arith.constant dense<[-1, 4]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.expand' op constant target has a negative dim}}
  %e = kiln.expand %x shape %t : tensor<2xi64> : tensor<1x4xf32> -> tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}
