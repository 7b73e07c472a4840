// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'kiln.binary' op operands are not broadcast-compatible: shapes 2x3, 4x3 differ in dimension 0 of the broadcast result (2 vs 4)}}
  %0 = kiln.binary add %a, %b : tensor<2x3xf32>, tensor<4x3xf32>
  return
}

// -----

func.func @mixed_dtypes(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'kiln.binary' op operands have different element types: 'f32' and 'f16' (insert kiln.cast)}}
  %0 = kiln.binary mul %a, %b : tensor<4xf32>, tensor<4xf16>
  return
}

// -----

func.func @and_of_float(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.binary' op 'and' needs i1 operands, got 'f32'}}
  %0 = kiln.binary and %a, %a : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @shift_of_float(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.binary' op 'shl' needs integer operands, got 'f32'}}
  %0 = kiln.binary shl %a, %a : tensor<4xf32>, tensor<4xf32>
  return
}
