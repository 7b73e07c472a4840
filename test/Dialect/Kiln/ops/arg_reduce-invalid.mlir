// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.arg_reduce' op axis -3 is out of range for rank 2}}
  %0 = kiln.arg_reduce argmax %x axis = -3 : tensor<2x3xf32>
  return
}

// -----

func.func @scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'kiln.arg_reduce' op input must have rank >= 1}}
  %0 = kiln.arg_reduce argmax %x axis = 0 : tensor<f32>
  return
}
