// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @mixed(%a: tensor<4xi64>, %b: tensor<4xi32>) {
  // expected-error @+1 {{'kiln.compare' op operands have different element types: 'i64' and 'i32'}}
  %0 = kiln.compare eq %a, %b : tensor<4xi64>, tensor<4xi32>
  return
}

// -----

func.func @shapes(%a: tensor<3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.compare' op operands are not broadcast-compatible}}
  %0 = kiln.compare gt %a, %b : tensor<3xf32>, tensor<4xf32>
  return
}
