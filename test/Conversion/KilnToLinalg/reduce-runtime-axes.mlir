// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// Axes given at run time (ONNX ReduceSum's `axes` input): one generic over
// o (kept extents, 1 where reduced) and r (reduced extents, 1 where kept),
// reading the input at o + r; a check that the axes are distinct dims.
// CHECK-DAG: #[[SUM:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0 + d3, d1 + d4, d2 + d5)>
// CHECK-DAG: #[[R:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4, d5)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @kept
// CHECK: cf.assert %{{.*}}, "'kiln.reduce': the axes must be distinct dims of the input, each in [-rank, rank)"
// CHECK: %[[W:.*]] = tensor.empty({{.*}}) : tensor<?x?x?xi8>
// CHECK: linalg.generic {indexing_maps = [#[[SUM]], #[[R]], #[[O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%arg0, %[[W]] : tensor<3x2x2xf32>, tensor<?x?x?xi8>)
// CHECK: arith.addf
func.func @kept(%x: tensor<3x2x2xf32>, %axes: tensor<1xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.reduce sum %x axes = [] runtime_axes %axes : tensor<1xi64> keepdims : tensor<3x2x2xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// Without keepdims the kept dims close up in order. Into one dim that is a
// collapse; mean divides by the product of the reduced extents.
// CHECK-LABEL: func.func @dropped_mean
// CHECK: linalg.generic
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<?x?x?xf32> into tensor<?xf32>
// CHECK: arith.divf
func.func @dropped_mean(%x: tensor<2x3x4xf32>, %axes: tensor<2xi64>) -> tensor<?xf32> {
  %0 = kiln.reduce mean %x axes = [] runtime_axes %axes : tensor<2xi64> : tensor<2x3x4xf32>
  return %0 : tensor<?xf32>
}

// -----

// Into more dims, a reshape to sizes chosen per run (an element copy).
// CHECK-LABEL: func.func @dropped_two
// CHECK: cf.assert %{{.*}}, "'kiln.reduce': the axes must be distinct
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: cf.assert %{{.*}}, "'kiln.reshape' reshapes {0} elements into {1}"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?xf32>)
func.func @dropped_two(%x: tensor<2x3x4x5xf32>, %axes: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.reduce max %x axes = [] runtime_axes %axes : tensor<2xi64> : tensor<2x3x4x5xf32>
  return %0 : tensor<?x?xf32>
}
