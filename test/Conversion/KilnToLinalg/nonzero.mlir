// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// NonZero: the count (a reduction; NaN is not zero), written as
// min(count, elements) -- the count and the bound the CPU plan sizes
// buffers by before the run -- then one pass in order over the input
// writing each non-zero element's coordinates into the next column (the
// write guarded to stay inside the result).
// CHECK-LABEL: func.func @nonzero
// CHECK: %[[CNT:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<3x4xf32>) outs(%{{.*}} : tensor<i64>)
// CHECK: arith.cmpf une
// CHECK: arith.extui
// CHECK: %[[E:.*]] = tensor.extract %[[CNT]][] : tensor<i64>
// CHECK: %[[C:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: %[[N:.*]] = arith.minui %[[C]], %c12 {kiln.data_size} : index
// CHECK: %[[OUT:.*]] = tensor.empty(%[[N]]) : tensor<2x?xi64>
// CHECK: scf.for %[[I:.*]] = %c0 to %c12 step %c1 iter_args(%[[R:.*]] = %[[OUT]], %[[POS:.*]] = %c0)
// CHECK: %[[COL:.*]] = arith.remui %[[I]], %c4 : index
// CHECK: %[[ROW:.*]] = arith.remui %{{.*}}, %c3 : index
// CHECK: %[[X:.*]] = tensor.extract %arg0[%[[ROW]], %[[COL]]]
// CHECK: %[[NZ:.*]] = arith.cmpf une, %[[X]]
// CHECK: %[[ROOM:.*]] = arith.cmpi ult, %[[POS]], %[[N]] : index
// CHECK: %[[HIT:.*]] = arith.andi %[[NZ]], %[[ROOM]] : i1
// CHECK: scf.if %[[HIT]]
// CHECK: tensor.insert %{{.*}} into %[[R]][%c0, %[[POS]]]
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%c1, %[[POS]]]
// CHECK: arith.addi %[[POS]], %c1
func.func @nonzero(%x: tensor<3x4xf32>) -> tensor<2x?xi64> {
  %0 = kiln.nonzero %x : tensor<3x4xf32>
  return %0 : tensor<2x?xi64>
}
