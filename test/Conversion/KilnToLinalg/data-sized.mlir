// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// NonMaxSuppression as loops on tensors: per batch and class, the boxes
// standing (above the score threshold), then min(boxes, max_output)
// rounds each picking the best standing box and knocking out those whose
// IoU with it exceeds the threshold; rows written into a buffer of
// batches x classes x picks rows, the result its first min(count, rows)
// (the count a data dim, the rows its bound).
// CHECK-LABEL: func.func @nms
// CHECK: %[[PICKS:.*]] = arith.minui %{{.*}}, %c6 : index
// CHECK: %[[ROWS:.*]] = arith.muli %[[PICKS]], %c2 : index
// CHECK: %[[SEL:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x3xi64>
// CHECK: %[[ALL:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %[[SEL]], %{{.*}} = %c0)
// CHECK: scf.for
// CHECK: arith.cmpf ogt
// CHECK: scf.for %{{.*}} = %c0 to %[[PICKS]] step %c1
// CHECK: scf.if
// CHECK: arith.divf
// CHECK: %[[N:.*]] = arith.minui %[[ALL]]#1, %[[ROWS]] {kiln.data_size} : index
// CHECK: tensor.extract_slice %[[ALL]]#0[0, 0] [%[[N]], 3] [1, 1]
func.func @nms(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %iou: tensor<1xf32>, %st: tensor<1xf32>) -> tensor<?x3xi64> {
  %0 = kiln.non_max_suppression %b, %s max_output %m : tensor<1xi64> iou %iou : tensor<1xf32> score %st : tensor<1xf32> : tensor<1x6x4xf32>, tensor<1x2x6xf32>
  return %0 : tensor<?x3xi64>
}

// -----

// Unique along an axis: each row's first equal row, then each unique
// row's rank (how many unique rows compare less: sorted), then the four
// results at those ranks; values, indices and counts are the first
// min(unique, rows) of buffers of one entry per row.
// CHECK-LABEL: func.func @unique
// CHECK: %[[FIRST:.*]]:2 = scf.for
// CHECK: arith.cmpf oeq
// CHECK: %[[N:.*]] = arith.minui %[[FIRST]]#1, %c4 {kiln.data_size} : index
// CHECK: scf.for
// CHECK: arith.cmpf olt
// CHECK: %[[FULL:.*]]:4 = scf.for
// CHECK: tensor.extract_slice %[[FULL]]#0[0, 0] [%[[N]], 3] [1, 1] : tensor<4x3xf32> to tensor<?x3xf32>
// CHECK: tensor.extract_slice %[[FULL]]#1[0] [%[[N]]] [1]
// CHECK: tensor.extract_slice %[[FULL]]#3[0] [%[[N]]] [1]
func.func @unique(%x: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?xi64>, tensor<4xi64>, tensor<?xi64>) {
  %0:4 = kiln.unique %x {axis = 0 : i64} : tensor<4x3xf32>
  return %0#0, %0#1, %0#2, %0#3 : tensor<?x3xf32>, tensor<?xi64>, tensor<4xi64>, tensor<?xi64>
}
