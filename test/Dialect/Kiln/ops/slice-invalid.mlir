// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @zero_step(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.slice' op step of dimension 0 is zero}}
  %0 = kiln.slice %x starts = [0] ends = [10] steps = [0] : tensor<10xf32>
  return
}

// -----

func.func @entries(%x: tensor<10x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op starts, ends and steps need one entry per dimension (2), got 1, 1 and 1}}
  %0 = kiln.slice %x starts = [0] ends = [10] steps = [1] : tensor<10x4xf32>
  return
}

// -----

func.func @both(%x: tensor<10xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.slice' op give starts/ends/steps as attributes or as operands, not both}}
  %0 = kiln.slice %x runtime(%s, %s : tensor<1xi64>, tensor<1xi64>) starts = [0] ends = [5] steps = [1] : tensor<10xf32>
  return
}

// -----

func.func @steps_alone(%x: tensor<10xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.slice' op runtime axes or steps need runtime starts and ends}}
  %0 = kiln.slice %x runtime_steps %s : tensor<1xi64> starts = [0] ends = [5] steps = [1] : tensor<10xf32>
  return
}
