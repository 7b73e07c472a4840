// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @result(%x: tensor<?x4xf32>) {
  // expected-error @+2 {{'kiln.shape' op inferred type(s) 'tensor<2xi64>' are incompatible with return type(s) of operation 'tensor<3xi64>'}}
  // expected-error @+1 {{'kiln.shape' op failed to infer returned types}}
  %0 = "kiln.shape"(%x) : (tensor<?x4xf32>) -> tensor<3xi64>
  return
}
