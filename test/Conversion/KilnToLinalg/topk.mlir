// RUN: kiln-opt %s -split-input-file --kiln-to-linalg | FileCheck %s

// k selection passes: each pass reads the previous pick back from the
// results, reduces the axis to the best element ordered after it, and
// writes its slice of the values and indices.
// CHECK-LABEL: func.func @topk
// CHECK: scf.for %[[J:.*]] = %c0 to %c2 step %c1 iter_args(%[[V:.*]] = %{{.*}}, %[[I:.*]] = %{{.*}}) -> (tensor<4x2xf32>, tensor<4x2xi64>)
// CHECK: tensor.extract_slice %[[V]]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf ogt
// CHECK: tensor.insert_slice {{.*}} into %[[V]][0, %[[J]]] [4, 1] [1, 1]
// CHECK: scf.yield
func.func @topk(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %v, %i = kiln.topk %x k = 2 axis = 1 : tensor<4x8xf32>
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

// Smallest first, on an inner axis of an integer tensor.
// CHECK-LABEL: func.func @smallest
// CHECK: arith.cmpi slt
// CHECK-NOT: kiln.topk
func.func @smallest(%x: tensor<3x5x2xi32>) -> (tensor<3x3x2xi32>, tensor<3x3x2xi64>) {
  %v, %i = kiln.topk %x k = 3 axis = -2 {largest = false} : tensor<3x5x2xi32>
  return %v, %i : tensor<3x3x2xi32>, tensor<3x3x2xi64>
}

// -----

// k given at run time (an input's value): the passes run k times, the
// results hold k columns, and k past the axis' length is refused per run.
// CHECK-LABEL: func.func @runtime_k
// CHECK: %[[KV:.*]] = tensor.extract %arg1[]
// CHECK: %[[K:.*]] = arith.index_cast %[[KV]]
// CHECK: %[[FITS:.*]] = arith.cmpi ule, %[[K]], %c8
// CHECK: cf.assert %[[FITS]], "{{.*}}takes the top {0} of {1} elements
// CHECK: tensor.empty(%[[K]]) : tensor<4x?xf32>
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[K]] step
func.func @runtime_k(%x: tensor<4x8xf32>, %k: tensor<i64>) -> (tensor<4x?xf32>, tensor<4x?xi64>) {
  %v, %i = kiln.topk %x k = 1 axis = 1 runtime_k %k : tensor<i64> : tensor<4x8xf32>
  return %v, %i : tensor<4x?xf32>, tensor<4x?xi64>
}
