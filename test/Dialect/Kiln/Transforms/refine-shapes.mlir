// RUN: kiln-opt %s -kiln-refine-shapes -split-input-file | FileCheck %s

// view(b, s, h, d) with b and s from x.shape (TorchScript's Shape -> Gather
// -> Concat): the chain folds to a constant target, the reshape becomes
// static, which folds the next kiln.shape, which gives the run-time slice
// constant bounds; the slice becomes static and the signature follows. One
// round of inference and canonicalization stopped after the first link.
// CHECK-LABEL: func.func @view_from_shape
// CHECK-SAME: -> tensor<1x4x2x2xf32>
// CHECK-NOT: kiln.shape
// CHECK: %[[R:.*]] = kiln.reshape %{{.*}} : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
// CHECK: %[[S:.*]] = kiln.slice %[[R]] starts = [0, 0, 0, 2] ends = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, 4] steps = [1, 1, 1, 1] : tensor<1x4x2x4xf32>
// CHECK: return %[[S]] : tensor<1x4x2x2xf32>
func.func @view_from_shape(%x: tensor<1x4x8xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x : tensor<1x4x8xf32>
  %i01 = arith.constant dense<[0, 1]> : tensor<2xi64>
  %bs = kiln.gather %s[%i01] axis = 0 : tensor<3xi64>, tensor<2xi64>
  %hd = arith.constant dense<[2, 4]> : tensor<2xi64>
  %t = kiln.concat %bs, %hd axis = 0 : tensor<2xi64>, tensor<2xi64>
  %r = kiln.reshape %x shape %t : tensor<4xi64> : tensor<1x4x8xf32> -> tensor<?x?x?x?xf32>
  %rs = kiln.shape %r : tensor<?x?x?x?xf32>
  %i3 = arith.constant dense<3> : tensor<1xi64>
  %d = kiln.gather %rs[%i3] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %two = arith.constant dense<2> : tensor<1xi64>
  %half = kiln.binary div %d, %two : tensor<1xi64>, tensor<1xi64>
  %ax = arith.constant dense<-1> : tensor<1xi64>
  %sl = kiln.slice %r runtime(%half, %d : tensor<1xi64>, tensor<1xi64>) runtime_axes %ax : tensor<1xi64> starts = [] ends = [] steps = [] : tensor<?x?x?x?xf32>
  return %sl : tensor<?x?x?x?xf32>
}

// -----

// An expand target computed from a shape: static result, operand dropped.
// CHECK-LABEL: func.func @expand_from_shape
// CHECK-SAME: -> tensor<3x4xf32>
// CHECK: kiln.expand %{{.*}} : tensor<1x4xf32> -> tensor<3x4xf32>
func.func @expand_from_shape(%x: tensor<1x4xf32>, %y: tensor<3x1xf32>) -> tensor<?x?xf32> {
  %s = kiln.shape %y : tensor<3x1xf32>
  %e = kiln.expand %x shape %s : tensor<2xi64> : tensor<1x4xf32> -> tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}

// -----

// A reshape whose target stays unknown keeps its operand and its `?`s.
// CHECK-LABEL: func.func @runtime_target
// CHECK: kiln.reshape %{{.*}} shape %{{.*}} : tensor<2xi64> : tensor<6xf32> -> tensor<?x?xf32>
func.func @runtime_target(%x: tensor<6xf32>, %t: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = kiln.reshape %x shape %t : tensor<2xi64> : tensor<6xf32> -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// torch's sdpa export writes Kᵀ with dynamic lengths as reshape to
// [-1, L, D], a transpose of the last two, and a reshape to shape[:-2] +
// [D, L]: with every entry known as x's own dims it is one transpose.
// CHECK-LABEL: func.func @key_transposed_through_reshapes
// CHECK-SAME: -> tensor<?x8x16x?xf32>
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %arg0 perm = [0, 1, 3, 2] : tensor<?x8x?x16xf32>
// CHECK-NEXT: return %[[T]]
func.func @key_transposed_through_reshapes(%x: tensor<?x8x?x16xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x : tensor<?x8x?x16xf32>
  %l = kiln.slice %s starts = [-2] ends = [-1] steps = [1] : tensor<4xi64>
  %lead = kiln.slice %s starts = [-9223372036854775808] ends = [-2] steps = [1] : tensor<4xi64>
  %m1 = arith.constant dense<-1> : tensor<1xi64>
  %d = arith.constant dense<16> : tensor<1xi64>
  %t3 = kiln.concat %m1, %l, %d axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %r = kiln.reshape %x shape %t3 : tensor<3xi64> : tensor<?x8x?x16xf32> -> tensor<?x?x?xf32>
  %tr = kiln.transpose %r perm = [0, 2, 1] : tensor<?x?x?xf32>
  %t4 = kiln.concat %lead, %d, %l axis = 0 : tensor<2xi64>, tensor<1xi64>, tensor<1xi64>
  %o = kiln.reshape %tr shape %t4 : tensor<4xi64> : tensor<?x?x?xf32> -> tensor<?x?x?x?xf32>
  return %o : tensor<?x?x?x?xf32>
}

// -----

// Symbols through a reshape's computed -1 (the unit axis repeat_kv adds,
// the other entries account for every other dim) and through an expand
// over a unit axis: batch and length of the repeated heads are x's.
// CHECK-LABEL: func.func @unit_axis_symbols
// CHECK-NEXT: %[[T:.*]] = arith.constant dense<true> : tensor<2xi1>
// CHECK-NEXT: return %[[T]]
func.func @unit_axis_symbols(%x: tensor<?x2x?x16xf32>) -> tensor<2xi1> {
  %split = arith.constant dense<[0, 0, 1, -1, 16]> : tensor<5xi64>
  %rep = arith.constant dense<[1, 1, 2, 1, 16]> : tensor<5xi64>
  %merge = arith.constant dense<[0, 4, -1, 16]> : tensor<4xi64>
  %a = kiln.reshape %x shape %split : tensor<5xi64> : tensor<?x2x?x16xf32> -> tensor<?x2x1x?x16xf32>
  %b = kiln.expand %a shape %rep : tensor<5xi64> : tensor<?x2x1x?x16xf32> -> tensor<?x2x2x?x16xf32>
  %c = kiln.reshape %b shape %merge : tensor<4xi64> : tensor<?x2x2x?x16xf32> -> tensor<?x4x?x16xf32>
  %at = arith.constant dense<[0, 2]> : tensor<2xi64>
  %sc = kiln.shape %c : tensor<?x4x?x16xf32>
  %sx = kiln.shape %x : tensor<?x2x?x16xf32>
  %gc = kiln.gather %sc[%at] axis = 0 : tensor<4xi64>, tensor<2xi64>
  %gx = kiln.gather %sx[%at] axis = 0 : tensor<4xi64>, tensor<2xi64>
  %eq = kiln.compare eq %gc, %gx : tensor<2xi64>, tensor<2xi64>
  return %eq : tensor<2xi1>
}

// -----

// An expand target shorter than the result aligns from the right: dim 1 of
// [B, 1, 64] expanded to [S, 64] is S (y's dim 1), not the target's 64.
// CHECK-LABEL: func.func @short_expand_target
// CHECK-NEXT: %[[T:.*]] = arith.constant dense<true> : tensor<1xi1>
// CHECK-NEXT: return %[[T]]
func.func @short_expand_target(%x: tensor<?x1x64xf32>, %y: tensor<1x?x64xf32>) -> tensor<1xi1> {
  %sy = kiln.shape %y : tensor<1x?x64xf32>
  %one = arith.constant dense<1> : tensor<1xi64>
  %s = kiln.gather %sy[%one] axis = 0 : tensor<3xi64>, tensor<1xi64>
  %d = arith.constant dense<64> : tensor<1xi64>
  %t = kiln.concat %s, %d axis = 0 : tensor<1xi64>, tensor<1xi64>
  %e = kiln.expand %x shape %t : tensor<2xi64> : tensor<?x1x64xf32> -> tensor<?x?x64xf32>
  %se = kiln.shape %e : tensor<?x?x64xf32>
  %s1 = kiln.gather %se[%one] axis = 0 : tensor<3xi64>, tensor<1xi64>
  %eq = kiln.compare eq %s1, %s : tensor<1xi64>, tensor<1xi64>
  return %eq : tensor<1xi1>
}

// -----

// A reshape's -1 is told only when the other entries account for the
// input's dims once each: [dim 1, 0 (copies dim 1 again), -1] of [A, S]
// leaves A / S for the -1, not A.
// CHECK-LABEL: func.func @minus_one_not_told
// CHECK: kiln.compare eq
func.func @minus_one_not_told(%x: tensor<?x?xf32>) -> tensor<1xi1> {
  %sx = kiln.shape %x : tensor<?x?xf32>
  %one = arith.constant dense<1> : tensor<1xi64>
  %zero = arith.constant dense<0> : tensor<1xi64>
  %m1 = arith.constant dense<-1> : tensor<1xi64>
  %s = kiln.gather %sx[%one] axis = 0 : tensor<2xi64>, tensor<1xi64>
  %t = kiln.concat %s, %zero, %m1 axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %r = kiln.reshape %x shape %t : tensor<3xi64> : tensor<?x?xf32> -> tensor<?x?x?xf32>
  %sr = kiln.shape %r : tensor<?x?x?xf32>
  %two = arith.constant dense<2> : tensor<1xi64>
  %r2 = kiln.gather %sr[%two] axis = 0 : tensor<3xi64>, tensor<1xi64>
  %a = kiln.gather %sx[%zero] axis = 0 : tensor<2xi64>, tensor<1xi64>
  %eq = kiln.compare eq %r2, %a : tensor<1xi64>, tensor<1xi64>
  return %eq : tensor<1xi1>
}

// -----

// DeepSeek-V3's group-limited routing with dynamic tokens: the rows pass
// through TopK (every dim but its axis), a reduction (the dims it keeps),
// a scatter (its data's), a reshape without a shape operand (its one
// dynamic dim is what the static dims leave of the input's one non-constant
// dim) and an expand without one (a dynamic dim keeps the input's). The
// mask's rows are the scores' rows: the broadcast check folds to true.
// CHECK-LABEL: func.func @routing_rows
// CHECK-NEXT: %[[T:.*]] = arith.constant dense<true> : tensor<1xi1>
// CHECK-NEXT: return %[[T]]
func.func @routing_rows(%s: tensor<?x8xf32>) -> tensor<1xi1> {
  %g = kiln.reshape %s : tensor<?x8xf32> -> tensor<?x4x2xf32>
  %v, %i = kiln.topk %g k = 2 axis = -1 : tensor<?x4x2xf32>
  %sum = kiln.reduce sum %v axes = [-1] : tensor<?x4x2xf32>
  %gv, %gi = kiln.topk %sum k = 2 axis = -1 : tensor<?x4xf32>
  %shape = kiln.shape %sum : tensor<?x4xf32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %zeros = kiln.expand %zero shape %shape : tensor<2xi64> : tensor<f32> -> tensor<?x?xf32>
  %ones = arith.constant dense<1.0> : tensor<f32>
  %ishape = kiln.shape %gi : tensor<?x2xi64>
  %upd = kiln.expand %ones shape %ishape : tensor<2xi64> : tensor<f32> -> tensor<?x?xf32>
  %mask = kiln.scatter_elements %upd into %zeros[%gi] axis = 1 : tensor<?x?xf32>, tensor<?x2xi64>, tensor<?x?xf32>
  %m3 = kiln.reshape %mask : tensor<?x?xf32> -> tensor<?x4x1xf32>
  %m4 = kiln.expand %m3 : tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %m = kiln.reshape %m4 : tensor<?x4x2xf32> -> tensor<?x8xf32>
  %at = arith.constant dense<[0]> : tensor<1xi64>
  %sm = kiln.shape %m : tensor<?x8xf32>
  %ss = kiln.shape %s : tensor<?x8xf32>
  %a = kiln.gather %sm[%at] axis = 0 : tensor<2xi64>, tensor<1xi64>
  %b = kiln.gather %ss[%at] axis = 0 : tensor<2xi64>, tensor<1xi64>
  %eq = kiln.compare eq %a, %b : tensor<1xi64>, tensor<1xi64>
  return %eq : tensor<1xi1>
}

// -----

// Sums of sizes: a concatenation's length (here along a negative axis) is
// the sum of its parts' (past + new), and shape arithmetic adding the same
// dims is the same size, in either order. Differences cancel: (p + s) - p
// is s. The checks fold to true.
// CHECK-LABEL: func.func @concat_length_sums
// CHECK-NEXT: %[[T:.*]] = arith.constant dense<true> : tensor<1xi1>
// CHECK-NEXT: return %[[T]], %[[T]]
func.func @concat_length_sums(%past: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "h", "p", "d"]},
                              %new: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]})
    -> (tensor<1xi1>, tensor<1xi1>) {
  %kv = kiln.concat %past, %new axis = -2 : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
  %at = arith.constant dense<[2]> : tensor<1xi64>
  %sp = kiln.shape %past : tensor<?x2x?x16xf32>
  %sn = kiln.shape %new : tensor<?x2x?x16xf32>
  %skv = kiln.shape %kv : tensor<?x2x?x16xf32>
  %p = kiln.gather %sp[%at] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %s = kiln.gather %sn[%at] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %t = kiln.gather %skv[%at] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %sum = kiln.binary add %s, %p : tensor<1xi64>, tensor<1xi64>
  %eq = kiln.compare eq %t, %sum : tensor<1xi64>, tensor<1xi64>
  %diff = kiln.binary sub %t, %p : tensor<1xi64>, tensor<1xi64>
  %eq2 = kiln.compare eq %diff, %s : tensor<1xi64>, tensor<1xi64>
  return %eq, %eq2 : tensor<1xi1>, tensor<1xi1>
}

// -----

// A sum is not any other size: the concatenation's length against the
// past's alone stays a run-time comparison (a negative concat axis once
// read as unsigned made the length the past's).
// CHECK-LABEL: func.func @concat_length_not_past
// CHECK: kiln.compare eq
func.func @concat_length_not_past(%past: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "h", "p", "d"]},
                                  %new: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]})
    -> tensor<1xi1> {
  %kv = kiln.concat %past, %new axis = -2 : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
  %at = arith.constant dense<[2]> : tensor<1xi64>
  %sp = kiln.shape %past : tensor<?x2x?x16xf32>
  %skv = kiln.shape %kv : tensor<?x2x?x16xf32>
  %p = kiln.gather %sp[%at] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %t = kiln.gather %skv[%at] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %eq = kiln.compare eq %t, %p : tensor<1xi64>, tensor<1xi64>
  return %eq : tensor<1xi1>
}

// -----

// view(b, T, -1, 32) of [b, 1, T, 128] (DeepSeek's kv_b_proj output, b and
// T from shapes at other positions): the -1 is what the static dims leave
// (128 / 32), so the target becomes the constant [0, -1, 4, 32] and the
// heads are static. A computed expand target gives the dims its constants
// fix: zeros expanded to [b, 4, T, 24] are ?x4x?x24.
// CHECK-LABEL: func.func @minus_one_beside_moved_symbols
// CHECK: %[[T:.*]] = arith.constant dense<[0, -1, 4, 32]> : tensor<4xi64>
// CHECK: kiln.reshape %arg0 shape %[[T]] : tensor<4xi64> : tensor<?x1x?x128xf32> -> tensor<?x?x4x32xf32>
// CHECK: kiln.expand %{{.*}} shape %{{.*}} : tensor<4xi64> : tensor<f32> -> tensor<?x4x?x24xf32>
func.func @minus_one_beside_moved_symbols(%x: tensor<?x1x?x128xf32>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) {
  %s = kiln.shape %x : tensor<?x1x?x128xf32>
  %i0 = arith.constant dense<[0]> : tensor<1xi64>
  %i2 = arith.constant dense<[2]> : tensor<1xi64>
  %b = kiln.gather %s[%i0] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %t = kiln.gather %s[%i2] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %m1 = arith.constant dense<[-1]> : tensor<1xi64>
  %c32 = arith.constant dense<[32]> : tensor<1xi64>
  %target = kiln.concat %b, %t, %m1, %c32 axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %r = kiln.reshape %x shape %target : tensor<4xi64> : tensor<?x1x?x128xf32> -> tensor<?x?x?x?xf32>
  %c4 = arith.constant dense<[4]> : tensor<1xi64>
  %c24 = arith.constant dense<[24]> : tensor<1xi64>
  %etarget = kiln.concat %b, %c4, %t, %c24 axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %z = kiln.expand %zero shape %etarget : tensor<4xi64> : tensor<f32> -> tensor<?x?x?x?xf32>
  return %r, %z : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
}

// -----

// The same over an empty input: the -1 would solve to 0, which a constant
// target reads as a copy, so the computed target stays.
// CHECK-LABEL: func.func @minus_one_empty_input
// CHECK: kiln.concat
// CHECK: kiln.reshape %arg0 shape %{{.*}} : tensor<4xi64> : tensor<?x1x?x0xf32> -> tensor<?x?x?x32xf32>
func.func @minus_one_empty_input(%x: tensor<?x1x?x0xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x : tensor<?x1x?x0xf32>
  %i0 = arith.constant dense<[0]> : tensor<1xi64>
  %i2 = arith.constant dense<[2]> : tensor<1xi64>
  %b = kiln.gather %s[%i0] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %t = kiln.gather %s[%i2] axis = 0 : tensor<4xi64>, tensor<1xi64>
  %m1 = arith.constant dense<[-1]> : tensor<1xi64>
  %c32 = arith.constant dense<[32]> : tensor<1xi64>
  %target = kiln.concat %b, %t, %m1, %c32 axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %r = kiln.reshape %x shape %target : tensor<4xi64> : tensor<?x1x?x0xf32> -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}
