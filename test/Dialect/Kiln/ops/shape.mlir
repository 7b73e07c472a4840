// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -canonicalize | FileCheck %s --check-prefix=FOLD

// CHECK-LABEL: func.func @shape
// CHECK: kiln.shape %{{.*}} : tensor<?x128xf32>
// FOLD-LABEL: func.func @shape
// FOLD: kiln.shape
func.func @shape(%x: tensor<?x128xf32>) -> tensor<2xi64> {
  %0 = kiln.shape %x : tensor<?x128xf32>
  return %0 : tensor<2xi64>
}

// A static shape folds, and so does the exporter's Shape->Gather->Concat
// chain that builds a Reshape target from it.
// FOLD-LABEL: func.func @shape_chain
// FOLD-NEXT: %[[R:.*]] = kiln.reshape %{{.*}} : tensor<2x3x4xf32> -> tensor<2x12xf32>
// FOLD-NEXT: return %[[R]]
func.func @shape_chain(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %s = kiln.shape %x : tensor<2x3x4xf32>
  %i0 = arith.constant dense<0> : tensor<1xi64>
  %b = kiln.gather %s[%i0] axis = 0 : tensor<3xi64>, tensor<1xi64>
  %m1 = arith.constant dense<-1> : tensor<1xi64>
  %t = kiln.concat %b, %m1 axis = 0 : tensor<1xi64>, tensor<1xi64>
  %r = kiln.reshape %x shape %t : tensor<2xi64> : tensor<2x3x4xf32> -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}
