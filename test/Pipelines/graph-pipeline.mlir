// RUN: kiln-opt %s '-kiln-graph-pipeline=input-shapes=x=3x4' | FileCheck %s

// Specialization, inference, folding and CSE in one named pipeline: the two
// identical exps merge, the transposes cancel, the multiply by one folds.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32> {kiln.name = "x"}) -> tensor<3x4xf32>
// CHECK-NEXT: %[[E:.*]] = kiln.unary exp %[[X]] : tensor<3x4xf32>
// CHECK-NEXT: %[[A:.*]] = kiln.binary add %[[E]], %[[E]] : tensor<3x4xf32>, tensor<3x4xf32>
// CHECK-NEXT: return %[[A]]
func.func @main(%x: tensor<?x4xf32> {kiln.name = "x"}) -> tensor<?x4xf32> {
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %0 = kiln.unary exp %x : tensor<?x4xf32>
  %1 = kiln.unary exp %x : tensor<?x4xf32>
  %2 = kiln.transpose %1 perm = [1, 0] : tensor<?x4xf32>
  %3 = kiln.transpose %2 perm = [1, 0] : tensor<4x?xf32>
  %4 = kiln.binary add %0, %3 : tensor<?x4xf32>, tensor<?x4xf32>
  %5 = kiln.binary mul %4, %one : tensor<?x4xf32>, tensor<4xf32>
  return %5 : tensor<?x4xf32>
}
