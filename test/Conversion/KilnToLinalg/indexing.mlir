// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// Einsum: one generic, output labels first, summed labels reduced.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @einsum_bmm
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @einsum_bmm(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = kiln.einsum "bij,bjk->bik" %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// An ellipsis becomes labels of its own; a repeated label is a diagonal.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d0, d1, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @einsum_diagonal
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel"]}
func.func @einsum_diagonal(%a: tensor<3x5x5xf32>) -> tensor<3x5xf32> {
  %0 = kiln.einsum "...ii->...i" %a : tensor<3x5x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// GatherND reads its index tuple from `indices` inside the body.
// CHECK-LABEL: func.func @gather_nd
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<2x3xf32>)
// CHECK-COUNT-2: tensor.extract %arg1
// CHECK: tensor.extract %arg0
func.func @gather_nd(%data: tensor<4x5x3xf32>, %idx: tensor<2x2xi64>) -> tensor<2x3xf32> {
  %0 = kiln.gather_nd %data[%idx] : tensor<4x5x3xf32>, tensor<2x2xi64>
  return %0 : tensor<2x3xf32>
}

// -----

// Expand with a static result is a broadcasting copy.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (0, d1, 0)>
// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{.*}} : tensor<2x3x4xf32>)
func.func @expand(%x: tensor<1x3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.expand %x : tensor<1x3x1xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Scatter: a loop nest over the updates carries the result; with a
// reduction each update combines with the element it targets.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %arg0) -> (tensor<3x3xf32>)
// CHECK: scf.for {{.*}} iter_args(%[[ACC2:.*]] = %[[ACC]]) -> (tensor<3x3xf32>)
// CHECK: tensor.extract %arg2
// CHECK: tensor.extract %arg1
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC2]]
// CHECK: arith.addf %[[OLD]]
// CHECK: tensor.insert
func.func @scatter_elements_add(%data: tensor<3x3xf32>, %idx: tensor<2x3xi64>, %upd: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = kiln.scatter_elements %upd into %data[%idx] axis = 0 {reduction = #kiln<reduction add>} : tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// CHECK-LABEL: func.func @scatter_nd
// CHECK: scf.for {{.*}} -> (tensor<4x4xf32>)
// CHECK: scf.for {{.*}} -> (tensor<4x4xf32>)
// CHECK-NOT: arith.addf
// CHECK: tensor.insert
func.func @scatter_nd(%data: tensor<4x4xf32>, %idx: tensor<2x1xi64>, %upd: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %0 = kiln.scatter_nd %upd into %data[%idx] : tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>
  return %0 : tensor<4x4xf32>
}
