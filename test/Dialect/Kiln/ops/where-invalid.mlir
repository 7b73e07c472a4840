// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @dtypes(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{'kiln.where' op true_value and false_value have different element types: 'f32' and 'i32'}}
  %0 = kiln.where %c, %a, %b : tensor<4xi1>, tensor<4xf32>, tensor<4xi32>
  return
}

// -----

func.func @condition(%c: tensor<4xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.where' op condition must be an i1 tensor, got element type 'f32'}}
  %0 = kiln.where %c, %a, %a : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  return
}
