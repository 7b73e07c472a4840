// RUN: kiln-opt %s -split-input-file -verify-diagnostics '-kiln-specialize-shapes=input-shapes=x=4x3'

// expected-error @+1 {{input 'x' has static type 'tensor<4x8xf32>'; --input-shape may only fix dynamic dimensions}}
func.func @static_conflict(%x: tensor<4x8xf32> {kiln.name = "x"}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{--input-shape names unknown input 'x'; inputs are: tokens}}
module {
  func.func @unknown(%t: tensor<?xf32> {kiln.name = "tokens"}) -> tensor<?xf32> {
    return %t : tensor<?xf32>
  }
}

// -----

// Specializing makes the matmul's contraction sizes disagree.
func.func @conflict_downstream(%x: tensor<4x?xf32> {kiln.name = "x"}, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'kiln.matmul' op contracting dimensions differ: lhs 4x3 has K=3, rhs 8x2 has K=8}}
  %0 = kiln.matmul %x, %w : tensor<4x?xf32>, tensor<8x2xf32>
  return %0 : tensor<4x2xf32>
}
