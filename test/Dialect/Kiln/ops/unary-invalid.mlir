// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @exp_of_int(%x: tensor<4xi32>) {
  // expected-error @+1 {{'kiln.unary' op 'exp' needs a floating-point tensor, got element type 'i32'}}
  %0 = kiln.unary exp %x : tensor<4xi32>
  return
}

// -----

func.func @not_of_float(%x: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.unary' op 'not' needs an i1 tensor, got element type 'f32'}}
  %0 = kiln.unary not %x : tensor<4xf32>
  return
}

// -----

func.func @unknown_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [abs, neg, exp,}}
    %0 = kiln.unary frobnicate %x : tensor<4xf32>
  return
}

// -----

func.func @wrong_result(%x: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.unary' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<4xf16>'}}
  // expected-error @+1 {{'kiln.unary' op failed to infer returned types}}
  %0 = "kiln.unary"(%x) <{kind = 2 : i32}> : (tensor<4xf32>) -> tensor<4xf16>
  return
}
