// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @twice(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reduce' op axis -1 is listed twice in axes}}
  %0 = kiln.reduce sum %x axes = [1, -1] : tensor<2x3xf32>
  return
}

// -----

func.func @range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reduce' op axis 3 is out of range for rank 2}}
  %0 = kiln.reduce sum %x axes = [3] : tensor<2x3xf32>
  return
}

// -----

func.func @mean_of_int(%x: tensor<2x3xi32>) {
  // expected-error @+1 {{'kiln.reduce' op 'mean' needs a floating-point tensor, got element type 'i32'}}
  %0 = kiln.reduce mean %x axes = [0] : tensor<2x3xi32>
  return
}

// -----

func.func @both_axes(%x: tensor<2x3xf32>, %a: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.reduce' op give axes as an attribute or an operand, not both}}
  %0 = kiln.reduce sum %x axes = [0] runtime_axes %a : tensor<1xi64> : tensor<2x3xf32>
  return
}

// -----

func.func @dynamic_count(%x: tensor<2x3xf32>, %a: tensor<?xi64>) {
  // expected-error @+1 {{'kiln.reduce' op without keepdims the number of run-time axes must be static and at most the rank}}
  %0 = kiln.reduce sum %x axes = [] runtime_axes %a : tensor<?xi64> : tensor<2x3xf32>
  return
}
