// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Sequences, optionals and string tensors round-trip.

// CHECK-LABEL: func.func @sequence_ops
func.func @sequence_ops(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>, %pos: tensor<i64>)
    -> (tensor<?x3xf32>, tensor<i64>, tensor<?x3xf32>) {
  // CHECK: kiln.seq_empty : !kiln.seq<tensor<*xf32>>
  %e = kiln.seq_empty : !kiln.seq<tensor<*xf32>>
  // CHECK: kiln.seq_insert %{{.*}}, %{{.*}} : !kiln.seq<tensor<*xf32>>, tensor<2x3xf32> -> !kiln.seq<tensor<2x3xf32>>
  %s1 = kiln.seq_insert %e, %x : !kiln.seq<tensor<*xf32>>, tensor<2x3xf32> -> !kiln.seq<tensor<2x3xf32>>
  // CHECK: kiln.seq_insert {{.*}} at %{{.*}} : tensor<i64>
  %s2 = kiln.seq_insert %s1, %y at %pos : tensor<i64> : !kiln.seq<tensor<2x3xf32>>, tensor<4x3xf32> -> !kiln.seq<tensor<?x3xf32>>
  // CHECK: kiln.seq_construct
  %c = kiln.seq_construct %x, %y : tensor<2x3xf32>, tensor<4x3xf32> -> !kiln.seq<tensor<?x3xf32>>
  // CHECK: kiln.seq_erase
  %d = kiln.seq_erase %s2 : !kiln.seq<tensor<?x3xf32>> -> !kiln.seq<tensor<?x3xf32>>
  // CHECK: kiln.seq_at %{{.*}}[%{{.*}} : tensor<i64>]
  %a = kiln.seq_at %d[%pos : tensor<i64>] : !kiln.seq<tensor<?x3xf32>> -> tensor<?x3xf32>
  // CHECK: kiln.seq_length
  %n = kiln.seq_length %c : !kiln.seq<tensor<?x3xf32>> -> tensor<i64>
  // CHECK: kiln.concat_from_seq %{{.*}} {axis = 0 : i64}
  %cat = kiln.concat_from_seq %c {axis = 0 : i64} : !kiln.seq<tensor<?x3xf32>> -> tensor<?x3xf32>
  return %a, %n, %cat : tensor<?x3xf32>, tensor<i64>, tensor<?x3xf32>
}

// CHECK-LABEL: func.func @split
func.func @split(%x: tensor<2x6xf64>) -> tensor<?x2xf64> {
  // CHECK: kiln.split_to_seq %{{.*}} {axis = 1 : i64, keepdims = false}
  %s = kiln.split_to_seq %x {axis = 1 : i64, keepdims = false} : tensor<2x6xf64> -> !kiln.seq<tensor<2xf64>>
  // CHECK: kiln.concat_from_seq %{{.*}} {axis = 0 : i64, new_axis}
  %t = kiln.concat_from_seq %s {axis = 0 : i64, new_axis} : !kiln.seq<tensor<2xf64>> -> tensor<?x2xf64>
  return %t : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @optionals
func.func @optionals(%x: tensor<4xi32>, %o: !kiln.optional<tensor<4xi32>>) -> (tensor<i1>, tensor<4xi32>) {
  // CHECK: kiln.optional_wrap %{{.*}} : tensor<4xi32> -> !kiln.optional<tensor<4xi32>>
  %w = kiln.optional_wrap %x : tensor<4xi32> -> !kiln.optional<tensor<4xi32>>
  // CHECK: kiln.optional_wrap -> !kiln.optional<!kiln.seq<tensor<*xf32>>>
  %none = kiln.optional_wrap -> !kiln.optional<!kiln.seq<tensor<*xf32>>>
  // CHECK: kiln.optional_has
  %h = kiln.optional_has %o : !kiln.optional<tensor<4xi32>> -> tensor<i1>
  // CHECK: kiln.optional_get
  %g = kiln.optional_get %w : !kiln.optional<tensor<4xi32>> -> tensor<4xi32>
  return %h, %g : tensor<i1>, tensor<4xi32>
}

// CHECK-LABEL: func.func @strings
func.func @strings(%s: tensor<1x4x!kiln.string>, %f: tensor<3xf32>) -> (tensor<1x?x!kiln.string>, tensor<3x!kiln.string>) {
  // CHECK: kiln.string_normalize %{{.*}} {case_change = "UPPER", stopwords = ["a", "the"]} : tensor<1x4x!kiln.string> -> tensor<1x?x!kiln.string>
  %n = kiln.string_normalize %s {case_change = "UPPER", stopwords = ["a", "the"]} : tensor<1x4x!kiln.string> -> tensor<1x?x!kiln.string>
  // CHECK: kiln.cast %{{.*}} : tensor<3xf32> to tensor<3x!kiln.string>
  %c = kiln.cast %f : tensor<3xf32> to tensor<3x!kiln.string>
  return %n, %c : tensor<1x?x!kiln.string>, tensor<3x!kiln.string>
}
