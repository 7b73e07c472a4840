// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @gather_elements_rank(%d: tensor<4x5xf32>, %i: tensor<5xi64>) {
  // expected-error @+1 {{'kiln.gather_elements' op indices must have the rank of data (2), got 1}}
  %0 = kiln.gather_elements %d[%i] axis = 0 : tensor<4x5xf32>, tensor<5xi64>
  return
}

// -----

func.func @scatter_elements_updates(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.scatter_elements' op updates 2x4 must have the shape of indices 2x5}}
  %0 = kiln.scatter_elements %u into %d[%i] axis = 0 : tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x4xf32>
  return
}

// -----

func.func @gather_nd_depth(%d: tensor<4x5xf32>, %i: tensor<3x3xi64>) {
  // expected-error @+1 {{'kiln.gather_nd' op index tuples of length 3 after 0 batch dimensions do not fit data of rank 2}}
  %0 = kiln.gather_nd %d[%i] : tensor<4x5xf32>, tensor<3x3xi64>
  return
}

// -----

func.func @scatter_nd_updates(%d: tensor<4x5xf32>, %i: tensor<3x1xi64>, %u: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.scatter_nd' op updates have shape 3, expected 3x5}}
  %0 = kiln.scatter_nd %u into %d[%i] : tensor<4x5xf32>, tensor<3x1xi64>, tensor<3xf32>
  return
}

// -----

func.func @cumsum_axis(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{'kiln.cumsum' op axis 2 is out of range for rank 2}}
  %0 = kiln.cumsum %x axis = 2 : tensor<3x4xf32>
  return
}

// -----

func.func @nonzero_result(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.nonzero' op inferred type(s) 'tensor<2x?xi64>' are incompatible with return type(s) of operation 'tensor<3x?xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "kiln.nonzero"(%x) : (tensor<3x4xf32>) -> tensor<3x?xi64>
  return
}
