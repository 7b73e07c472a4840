// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @terms(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.einsum' op equation 'ij,jk->ik' has 2 operand terms but the op has 1 inputs}}
  %0 = kiln.einsum "ij,jk->ik" %a : tensor<2x3xf32>
  return
}

// -----

func.func @sizes(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'kiln.einsum' op label 'j' has sizes 3 and 4}}
  %0 = kiln.einsum "ij,jk->ik" %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return
}

// -----

func.func @output_label(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.einsum' op output label 'z' appears in no input}}
  %0 = kiln.einsum "ij->iz" %a : tensor<2x3xf32>
  return
}
