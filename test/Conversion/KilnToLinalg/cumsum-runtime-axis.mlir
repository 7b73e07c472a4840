// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// CumSum along an axis given per run: the sum over j runs along the chosen
// dim's extent (a window operand), the input is read at j along that dim,
// and the axis is checked to be in [-rank, rank).
// CHECK-LABEL: func.func @cumsum_axis
// CHECK: %[[A:.*]] = tensor.extract %arg1[] : tensor<i64>
// CHECK: cf.assert %{{.*}}, "'kiln.cumsum': the axis must be in [-rank, rank)"
// CHECK: %[[W:.*]] = tensor.empty(%{{.*}}) : tensor<?xi8>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[W]] : tensor<?xi8>)
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %arg0
// CHECK: arith.cmpi slt, %[[J]]
// CHECK: arith.addf
func.func @cumsum_axis(%x: tensor<2x3xf64>, %a: tensor<i64>) -> tensor<2x3xf64> {
  %0 = kiln.cumsum %x axis = 0 runtime_axis %a : tensor<i64> exclusive : tensor<2x3xf64>
  return %0 : tensor<2x3xf64>
}
