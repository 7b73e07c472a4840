// RUN: kiln-opt %s -kiln-refine-shapes -split-input-file | FileCheck %s

// view(b, s, h, d) with b and s from x.shape (TorchScript's Shape -> Gather
// -> Concat): the chain folds to a constant target, the reshape becomes
// static, which folds the next kiln.shape, which gives the run-time slice
// constant bounds; the slice becomes static and the signature follows. One
// round of inference and canonicalization stopped after the first link.
// CHECK-LABEL: func.func @view_from_shape
// CHECK-SAME: -> tensor<1x4x2x2xf32>
// CHECK-NOT: kiln.shape
// CHECK: %[[R:.*]] = kiln.reshape %{{.*}} : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
// CHECK: %[[S:.*]] = kiln.slice %[[R]] starts = [0, 0, 0, 2] ends = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, 4] steps = [1, 1, 1, 1] : tensor<1x4x2x4xf32>
// CHECK: return %[[S]] : tensor<1x4x2x2xf32>
func.func @view_from_shape(%x: tensor<1x4x8xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x : tensor<1x4x8xf32>
  %i01 = arith.constant dense<[0, 1]> : tensor<2xi64>
  %bs = kiln.gather %s[%i01] axis = 0 : tensor<3xi64>, tensor<2xi64>
  %hd = arith.constant dense<[2, 4]> : tensor<2xi64>
  %t = kiln.concat %bs, %hd axis = 0 : tensor<2xi64>, tensor<2xi64>
  %r = kiln.reshape %x shape %t : tensor<4xi64> : tensor<1x4x8xf32> -> tensor<?x?x?x?xf32>
  %rs = kiln.shape %r : tensor<?x?x?x?xf32>
  %i3 = arith.constant dense<3> : tensor<1xi64>
  %d = kiln.gather %rs[%i3] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %two = arith.constant dense<2> : tensor<1xi64>
  %half = kiln.binary div %d, %two : tensor<1xi64>, tensor<1xi64>
  %ax = arith.constant dense<-1> : tensor<1xi64>
  %sl = kiln.slice %r runtime(%half, %d : tensor<1xi64>, tensor<1xi64>) runtime_axes %ax : tensor<1xi64> starts = [] ends = [] steps = [] : tensor<?x?x?x?xf32>
  return %sl : tensor<?x?x?x?xf32>
}

// -----

// An expand target computed from a shape: static result, operand dropped.
// CHECK-LABEL: func.func @expand_from_shape
// CHECK-SAME: -> tensor<3x4xf32>
// CHECK: kiln.expand %{{.*}} : tensor<1x4xf32> -> tensor<3x4xf32>
func.func @expand_from_shape(%x: tensor<1x4xf32>, %y: tensor<3x1xf32>) -> tensor<?x?xf32> {
  %s = kiln.shape %y : tensor<3x1xf32>
  %e = kiln.expand %x shape %s : tensor<2xi64> : tensor<1x4xf32> -> tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}

// -----

// A reshape whose target stays unknown keeps its operand and its `?`s.
// CHECK-LABEL: func.func @runtime_target
// CHECK: kiln.reshape %{{.*}} shape %{{.*}} : tensor<2xi64> : tensor<6xf32> -> tensor<?x?xf32>
func.func @runtime_target(%x: tensor<6xf32>, %t: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = kiln.reshape %x shape %t : tensor<2xi64> : tensor<6xf32> -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
