// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-return-result-dims))' | FileCheck %s

// Each dynamic dim of a result is returned as an index, computed from the
// arguments' dims (the tensor.dim of the result resolved through the ops
// that made it).
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<?x32xf32>, index)
// CHECK: %[[R:.*]] = linalg.generic
// CHECK-NOT: tensor.dim %[[R]]
// CHECK: %[[D:.*]] = tensor.dim %arg0
// CHECK: return %[[R]], %[[D]] : tensor<?x32xf32>, index
func.func @main(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x32xf32>
  %e = tensor.empty(%n) : tensor<?x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x32xf32>) outs(%e : tensor<?x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    %y = arith.negf %a : f32
    linalg.yield %y : f32
  } -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

// Static results: nothing changes.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> tensor<4xf32>
// CHECK: return %arg0 : tensor<4xf32>
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
