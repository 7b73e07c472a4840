// RUN: kiln-opt %s -split-input-file --kiln-resolve-sequences | FileCheck %s

// Inserts, erases and a constant index resolve to the element; the
// sequence ops disappear.
// CHECK-LABEL: func.func @at
// CHECK-SAME: -> tensor<3x3x4xf32>
// CHECK-NOT: kiln.seq
// CHECK: return %arg2 : tensor<3x3x4xf32>
func.func @at(%x: tensor<2x3x4xf32>, %y: tensor<1x3x4xf32>, %z: tensor<3x3x4xf32>) -> tensor<?x3x4xf32> {
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %0 = kiln.seq_empty : !kiln.seq<tensor<*xf32>>
  %1 = kiln.seq_insert %0, %x : !kiln.seq<tensor<*xf32>>, tensor<2x3x4xf32> -> !kiln.seq<tensor<2x3x4xf32>>
  %2 = kiln.seq_insert %1, %y : !kiln.seq<tensor<2x3x4xf32>>, tensor<1x3x4xf32> -> !kiln.seq<tensor<?x3x4xf32>>
  %3 = kiln.seq_insert %2, %z at %c1 : tensor<i64> : !kiln.seq<tensor<?x3x4xf32>>, tensor<3x3x4xf32> -> !kiln.seq<tensor<?x3x4xf32>>
  %4 = kiln.seq_erase %3 : !kiln.seq<tensor<?x3x4xf32>> -> !kiln.seq<tensor<?x3x4xf32>>
  %5 = kiln.seq_at %4[%c1 : tensor<i64>] : !kiln.seq<tensor<?x3x4xf32>> -> tensor<?x3x4xf32>
  return %5 : tensor<?x3x4xf32>
}

// -----

// split_to_seq with static pieces becomes slices; concat_from_seq a concat
// (new_axis: each piece reshaped first); seq_length a constant.
// CHECK-LABEL: func.func @split_concat
// CHECK-COUNT-2: kiln.slice %arg0 starts = [0, {{[02]}}] ends = [3, {{[24]}}] steps = [1, 1] : tensor<3x4xf32>
// CHECK-COUNT-2: kiln.reshape
// CHECK: kiln.concat
// CHECK-SAME: axis = 0
// CHECK: arith.constant dense<2> : tensor<i64>
// CHECK-NOT: kiln.seq
// CHECK-NOT: kiln.split_to_seq
func.func @split_concat(%x: tensor<3x4xf32>) -> (tensor<2x3x2xf32>, tensor<i64>) {
  %c2 = arith.constant dense<2> : tensor<i64>
  %s = kiln.split_to_seq %x split %c2 : tensor<i64> {axis = 1 : i64} : tensor<3x4xf32> -> !kiln.seq<tensor<3x2xf32>>
  %c = kiln.concat_from_seq %s {axis = 0 : i64, new_axis} : !kiln.seq<tensor<3x2xf32>> -> tensor<2x3x2xf32>
  %n = kiln.seq_length %s : !kiln.seq<tensor<3x2xf32>> -> tensor<i64>
  return %c, %n : tensor<2x3x2xf32>, tensor<i64>
}

// -----

// A position computed at run time leaves the sequence alone.
// CHECK-LABEL: func.func @runtime_position
// CHECK: kiln.seq_construct
// CHECK: kiln.seq_at
func.func @runtime_position(%x: tensor<2xf32>, %y: tensor<2xf32>, %i: tensor<i64>) -> tensor<2xf32> {
  %s = kiln.seq_construct %x, %y : tensor<2xf32>, tensor<2xf32> -> !kiln.seq<tensor<2xf32>>
  %v = kiln.seq_at %s[%i : tensor<i64>] : !kiln.seq<tensor<2xf32>> -> tensor<2xf32>
  return %v : tensor<2xf32>
}
