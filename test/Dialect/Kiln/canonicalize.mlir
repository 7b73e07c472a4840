// RUN: kiln-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @transpose_chain
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.*]] = kiln.transpose %[[X]] perm = [2, 0, 1]
// CHECK-NEXT: return %[[T]]
func.func @transpose_chain(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = kiln.transpose %x perm = [1, 0, 2] : tensor<2x3x4xf32>
  %1 = kiln.transpose %0 perm = [2, 1, 0] : tensor<3x2x4xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// Two transposes that undo each other disappear.
// CHECK-LABEL: func.func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_inverse(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.transpose %x perm = [1, 0] : tensor<2x3xf32>
  %1 = kiln.transpose %0 perm = [1, 0] : tensor<3x2xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<2x12xf32>)
// CHECK: %[[R:.*]] = kiln.reshape %[[X]] : tensor<2x12xf32> -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<2x12xf32>) -> tensor<4x6xf32> {
  %0 = kiln.reshape %x : tensor<2x12xf32> -> tensor<24xf32>
  %1 = kiln.reshape %0 : tensor<24xf32> -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @identities(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %0 = kiln.binary mul %x, %one : tensor<4xf32>, tensor<4xf32>
  %1 = kiln.binary sub %x, %zero : tensor<4xf32>, tensor<4xf32>
  %2 = kiln.cast %x : tensor<4xf32> to tensor<4xf32>
  %3 = kiln.unary neg %x : tensor<4xf32>
  %4 = kiln.unary neg %3 : tensor<4xf32>
  %5 = kiln.concat %x axis = 0 : tensor<4xf32>
  return %0, %1, %2, %4, %5 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// x + 0.0 is not folded: it turns -0.0 into +0.0.
// CHECK-LABEL: func.func @float_add_zero_kept
// CHECK: kiln.binary add
func.func @float_add_zero_kept(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %0 = kiln.binary add %x, %zero : tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Broadcasting multiply-by-one changes the shape, so it stays.
// CHECK-LABEL: func.func @broadcast_mul_one_kept
// CHECK: kiln.binary mul
func.func @broadcast_mul_one_kept(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %one = arith.constant dense<1.0> : tensor<2x4xf32>
  %0 = kiln.binary mul %x, %one : tensor<4xf32>, tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @splat_arith
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<6.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT: return %[[C]]
func.func @splat_arith() -> tensor<2x2xf32> {
  %a = arith.constant dense<2.0> : tensor<2x2xf32>
  %b = arith.constant dense<3.0> : tensor<2x2xf32>
  %0 = kiln.binary mul %a, %b : tensor<2x2xf32>, tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @where_splat_condition
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[B]]
func.func @where_splat_condition(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %false = arith.constant dense<false> : tensor<4xi1>
  %0 = kiln.where %false, %a, %b : tensor<4xi1>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @splat_reshape_expand
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<-3.40282347E+38> : tensor<2x8x8xf32>
// CHECK-NEXT: return %[[C]]
func.func @splat_reshape_expand() -> tensor<2x8x8xf32> {
  %ninf = arith.constant dense<-3.40282347E+38> : tensor<64xf32>
  %0 = kiln.reshape %ninf : tensor<64xf32> -> tensor<8x8xf32>
  %1 = kiln.expand %0 : tensor<8x8xf32> -> tensor<2x8x8xf32>
  return %1 : tensor<2x8x8xf32>
}

// -----

// CHECK-LABEL: func.func @identity_slice_and_empty_reduce
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @identity_slice_and_empty_reduce(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = kiln.slice %x starts = [0, 0] ends = [4, 9223372036854775807] steps = [1, 1] : tensor<4x8xf32>
  %1 = kiln.reduce sum %x axes = [] : tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
