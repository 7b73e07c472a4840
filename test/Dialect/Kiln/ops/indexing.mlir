// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @indexing
func.func @indexing(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>,
                    %nd: tensor<3x2xi64>, %un: tensor<3xf32>, %b: tensor<2x3x4xf32>, %bi: tensor<2x1xi64>)
    -> (tensor<2x5xf32>, tensor<4x5xf32>, tensor<3xf32>, tensor<4x5xf32>, tensor<2x4xf32>) {
  // CHECK: kiln.gather_elements %{{.*}}[%{{.*}}] axis = 0 : tensor<4x5xf32>, tensor<2x5xi64>
  %0 = kiln.gather_elements %d[%i] axis = 0 : tensor<4x5xf32>, tensor<2x5xi64>
  // CHECK: kiln.scatter_elements %{{.*}} into %{{.*}}[%{{.*}}] axis = 0 {reduction = #kiln<reduction add>}
  %1 = kiln.scatter_elements %u into %d[%i] axis = 0 {reduction = #kiln<reduction add>} : tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>
  // CHECK: kiln.gather_nd %{{.*}}[%{{.*}}] : tensor<4x5xf32>, tensor<3x2xi64>
  %2 = kiln.gather_nd %d[%nd] : tensor<4x5xf32>, tensor<3x2xi64>
  // CHECK: kiln.scatter_nd %{{.*}} into %{{.*}}[%{{.*}}] : tensor<4x5xf32>, tensor<3x2xi64>, tensor<3xf32>
  %3 = kiln.scatter_nd %un into %d[%nd] : tensor<4x5xf32>, tensor<3x2xi64>, tensor<3xf32>
  // One batch dimension: index tuples of length 1 into each batch's [3, 4].
  // CHECK: kiln.gather_nd %{{.*}}[%{{.*}}] {batch_dims = 1 : i64}
  %4 = kiln.gather_nd %b[%bi] {batch_dims = 1 : i64} : tensor<2x3x4xf32>, tensor<2x1xi64>
  return %0, %1, %2, %3, %4 : tensor<2x5xf32>, tensor<4x5xf32>, tensor<3xf32>, tensor<4x5xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @cumsum_nonzero
func.func @cumsum_nonzero(%x: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<2x?xi64>) {
  // CHECK: kiln.cumsum %{{.*}} axis = 1 exclusive reverse : tensor<3x4xf32>
  %0 = kiln.cumsum %x axis = 1 exclusive reverse : tensor<3x4xf32>
  // CHECK: kiln.nonzero %{{.*}} : tensor<3x4xf32>
  %1 = kiln.nonzero %x : tensor<3x4xf32>
  return %0, %1 : tensor<3x4xf32>, tensor<2x?xi64>
}

// Run-time operands replace the attribute; the rank stays known.
// CHECK-LABEL: func.func @runtime_operands
func.func @runtime_operands(%x: tensor<3x4xf32>, %a: tensor<i64>, %p: tensor<4xi64>) -> (tensor<3x4xf32>, tensor<?x?xf32>, tensor<3x?xf32>) {
  // CHECK: kiln.cumsum %{{.*}} axis = 0 runtime_axis %{{.*}} : tensor<i64> : tensor<3x4xf32>
  %0 = kiln.cumsum %x axis = 0 runtime_axis %a : tensor<i64> : tensor<3x4xf32>
  // CHECK: kiln.pad %{{.*}} runtime_pads %{{.*}} : tensor<4xi64> pads = [] : tensor<3x4xf32>
  %1 = kiln.pad %x runtime_pads %p : tensor<4xi64> pads = [] : tensor<3x4xf32>
  // CHECK: kiln.topk %{{.*}} k = 1 axis = 1 runtime_k %{{.*}} : tensor<i64> : tensor<3x4xf32>
  %2, %3 = kiln.topk %x k = 1 axis = 1 runtime_k %a : tensor<i64> : tensor<3x4xf32>
  return %0, %1, %2 : tensor<3x4xf32>, tensor<?x?xf32>, tensor<3x?xf32>
}
