// RUN: kiln-opt %s --kiln-to-linalg=strict -split-input-file -verify-diagnostics

// Unsigned integers have no negation: strict mode names the op.
func.func @unsigned(%a: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error @+1 {{'kiln.unary' has no lowering to linalg for these types yet}}
  %0 = kiln.unary neg %a : tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// (Det lowers for matrices up to 8 x 8 only.)
func.func @no_pattern(%x: tensor<3x9x9xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.det' has no lowering to linalg for these types yet}}
  %0 = kiln.det %x : tensor<3x9x9xf32>
  return %0 : tensor<3xf32>
}
