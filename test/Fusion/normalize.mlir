// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// torch.export's nn.Linear: Gemm(x, W [out, in], transB) becomes a matmul
// with the transposed weight (bound as a weight view when compiled).
// CHECK-LABEL: func.func @gemm_linear
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %arg1 perm = [1, 0] : tensor<16x8xf32>
// CHECK-NEXT: %[[M:.*]] = kiln.matmul %arg0, %[[T]] : tensor<4x8xf32>, tensor<8x16xf32>
// CHECK-NEXT: return %[[M]]
func.func @gemm_linear(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %y = kiln.gemm %x, %w {trans_b} : tensor<4x8xf32>, tensor<16x8xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A Gemm with a bias or a scale is not a bare linear layer: it stays.
// CHECK-LABEL: func.func @gemm_bias_scale
// CHECK-NEXT: kiln.gemm %arg0, %arg1, %arg2 {trans_b}
// CHECK-NEXT: kiln.gemm %arg0, %arg1 {alpha = 5.000000e-01 : f32, trans_b}
// CHECK-NOT: kiln.matmul
func.func @gemm_bias_scale(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %y = kiln.gemm %x, %w, %b {trans_b} : tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>
  %z = kiln.gemm %x, %w {alpha = 0.5 : f32, trans_b} : tensor<4x8xf32>, tensor<16x8xf32>
  return %y, %z : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// onnxscript's Kᵀ for scaled_dot_product_attention: K merged to [B*H, L,
// D], transposed [0, 2, 1], split to [B, H, D, L] is the 4-D transpose of
// K viewed [B, H, L, D].
// CHECK-LABEL: func.func @transpose_through_reshapes
// CHECK-NEXT: %[[R:.*]] = kiln.reshape %arg0 : tensor<1x2x3x16x8xf32> -> tensor<1x6x16x8xf32>
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %[[R]] perm = [0, 1, 3, 2] : tensor<1x6x16x8xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_through_reshapes(%k: tensor<1x2x3x16x8xf32>) -> tensor<1x6x8x16xf32> {
  %m = kiln.reshape %k : tensor<1x2x3x16x8xf32> -> tensor<6x16x8xf32>
  %t = kiln.transpose %m perm = [0, 2, 1] : tensor<6x16x8xf32>
  %s = kiln.reshape %t : tensor<6x8x16xf32> -> tensor<1x6x8x16xf32>
  return %s : tensor<1x6x8x16xf32>
}

// -----

// Look-alikes: the outer reshape regroups the swapped axes, or the
// transpose moves a leading axis: not a batched transpose; unchanged.
// CHECK-LABEL: func.func @not_batched_transpose
// CHECK: kiln.transpose %{{.*}} perm = [0, 2, 1] : tensor<6x16x8xf32>
// CHECK: kiln.transpose %{{.*}} perm = [1, 0, 2] : tensor<6x16x8xf32>
func.func @not_batched_transpose(%k: tensor<1x6x16x8xf32>) -> (tensor<1x6x4x32xf32>, tensor<1x16x6x8xf32>) {
  %m = kiln.reshape %k : tensor<1x6x16x8xf32> -> tensor<6x16x8xf32>
  %t = kiln.transpose %m perm = [0, 2, 1] : tensor<6x16x8xf32>
  %s = kiln.reshape %t : tensor<6x8x16xf32> -> tensor<1x6x4x32xf32>
  %t2 = kiln.transpose %m perm = [1, 0, 2] : tensor<6x16x8xf32>
  %s2 = kiln.reshape %t2 : tensor<16x6x8xf32> -> tensor<1x16x6x8xf32>
  return %s, %s2 : tensor<1x6x4x32xf32>, tensor<1x16x6x8xf32>
}

// -----

// Hugging Face's MLA key, `k = new_empty(..); k[..., :16] = k_nope;
// k[..., 16:] = k_rope`, as the TorchScript exporter writes it: ScatterND at
// full coordinates into an empty tensor. The parts tile it: a Concat.
// CHECK-LABEL: func.func @scatter_tiles_full_coordinates
// CHECK-NEXT: %[[C:.*]] = kiln.concat %arg0, %arg1 axis = 3 : tensor<1x1x2x2xf32>, tensor<1x1x2x1xf32>
// CHECK-NEXT: return %[[C]]
func.func @scatter_tiles_full_coordinates(%nope: tensor<1x1x2x2xf32>, %rope: tensor<1x1x2x1xf32>) -> tensor<1x1x2x3xf32> {
  %empty = arith.constant dense<0.0> : tensor<1x1x2x3xf32>
  %i1 = arith.constant dense<[[[[[0, 0, 0, 0], [0, 0, 0, 1]], [[0, 0, 1, 0], [0, 0, 1, 1]]]]]> : tensor<1x1x2x2x4xi64>
  %i2 = arith.constant dense<[[[[[0, 0, 0, 2]], [[0, 0, 1, 2]]]]]> : tensor<1x1x2x1x4xi64>
  %a = kiln.scatter_nd %nope into %empty[%i1] : tensor<1x1x2x3xf32>, tensor<1x1x2x2x4xi64>, tensor<1x1x2x2xf32>
  %b = kiln.scatter_nd %rope into %a[%i2] : tensor<1x1x2x3xf32>, tensor<1x1x2x1x4xi64>, tensor<1x1x2x1xf32>
  return %b : tensor<1x1x2x3xf32>
}

// -----

// The same key as torch.export writes it: the feature axis moved first,
// rows scattered, moved back (and transposed once more for Kᵀ). The rows
// tile axis 0; the transposes leave the Concat and compose: Kᵀ of
// concat(k_nope, k_rope) on the features.
// CHECK-LABEL: func.func @scatter_tiles_rows
// CHECK-NEXT: %[[C:.*]] = kiln.concat %arg0, %arg1 axis = 3 : tensor<1x2x4x2xf32>, tensor<1x2x4x1xf32>
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %[[C]] perm = [0, 1, 3, 2]
// CHECK-NEXT: return %[[T]]
func.func @scatter_tiles_rows(%nope: tensor<1x2x4x2xf32>, %rope: tensor<1x2x4x1xf32>) -> tensor<1x2x3x4xf32> {
  %empty = arith.constant dense<0.0> : tensor<3x2x4x1xf32>
  %i1 = arith.constant dense<[[0], [1]]> : tensor<2x1xi64>
  %i2 = arith.constant dense<[[2]]> : tensor<1x1xi64>
  %t1 = kiln.transpose %nope perm = [3, 1, 2, 0] : tensor<1x2x4x2xf32>
  %a = kiln.scatter_nd %t1 into %empty[%i1] : tensor<3x2x4x1xf32>, tensor<2x1xi64>, tensor<2x2x4x1xf32>
  %t2 = kiln.transpose %rope perm = [3, 1, 2, 0] : tensor<1x2x4x1xf32>
  %b = kiln.scatter_nd %t2 into %a[%i2] : tensor<3x2x4x1xf32>, tensor<1x1xi64>, tensor<1x2x4x1xf32>
  %kt = kiln.transpose %b perm = [3, 1, 0, 2] : tensor<3x2x4x1xf32>
  return %kt : tensor<1x2x3x4xf32>
}

// -----

// Look-alikes that stay scatters: rows that leave a gap (the base shows
// through), rows out of order within one update, and an update that adds.
// CHECK-LABEL: func.func @scatter_not_tiles
// CHECK-NOT: kiln.concat
// CHECK-COUNT-3: kiln.scatter_nd
func.func @scatter_not_tiles(%u: tensor<1x4xf32>, %w: tensor<2x4xf32>) -> (tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %base = arith.constant dense<1.0> : tensor<3x4xf32>
  %base2 = arith.constant dense<0.0> : tensor<2x4xf32>
  %gap = arith.constant dense<[[2]]> : tensor<1x1xi64>
  %swapped = arith.constant dense<[[1], [0]]> : tensor<2x1xi64>
  %rows = arith.constant dense<[[0], [1]]> : tensor<2x1xi64>
  %a = kiln.scatter_nd %u into %base[%gap] : tensor<3x4xf32>, tensor<1x1xi64>, tensor<1x4xf32>
  %b = kiln.scatter_nd %w into %base2[%swapped] : tensor<2x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>
  %c = kiln.scatter_nd %w into %base2[%rows] {reduction = #kiln<reduction add>} : tensor<2x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>
  return %a, %b, %c : tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// A fused projection (one MatMul for gate and up, or q, k, v) split by
// Slices of its columns: each part is the product with the weight's
// columns (a view of the weight, free once compiled).
// CHECK-LABEL: func.func @split_projection
// CHECK-DAG: %[[W:.*]] = kiln.weight "w_qkv"
// CHECK-DAG: %[[WQ:.*]] = kiln.slice %[[W]] starts = [0, 0] ends = [8, 4]
// CHECK-DAG: %[[WK:.*]] = kiln.slice %[[W]] starts = [0, 4] ends = [8, 6]
// CHECK-DAG: kiln.matmul %arg0, %[[WQ]] : tensor<1x3x8xf32>, tensor<8x4xf32>
// CHECK-DAG: kiln.matmul %arg0, %[[WK]] : tensor<1x3x8xf32>, tensor<8x2xf32>
// CHECK-NOT: tensor<8x6xf32>, tensor
func.func @split_projection(%x: tensor<1x3x8xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x2xf32>) {
  %w = kiln.weight "w_qkv" from "model.onnx" at 0 : tensor<8x6xf32>
  %p = kiln.matmul %x, %w : tensor<1x3x8xf32>, tensor<8x6xf32>
  %q = kiln.slice %p starts = [0, 0, 0] ends = [9223372036854775807, 9223372036854775807, 4] steps = [1, 1, 1] : tensor<1x3x6xf32>
  %k = kiln.slice %p starts = [0, 0, 4] ends = [9223372036854775807, 9223372036854775807, 6] steps = [1, 1, 1] : tensor<1x3x6xf32>
  return %q, %k : tensor<1x3x4xf32>, tensor<1x3x2xf32>
}

// -----

// A product of two activations is no projection: its slices stay.
// CHECK-LABEL: func.func @split_activation_product
// CHECK: %[[P:.*]] = kiln.matmul %arg0, %arg1
// CHECK: kiln.slice %[[P]]
func.func @split_activation_product(%x: tensor<3x8xf32>, %y: tensor<8x6xf32>) -> tensor<3x4xf32> {
  %p = kiln.matmul %x, %y : tensor<3x8xf32>, tensor<8x6xf32>
  %q = kiln.slice %p starts = [0, 0] ends = [3, 4] steps = [1, 1] : tensor<3x6xf32>
  return %q : tensor<3x4xf32>
}

// -----

// A product also read whole keeps its one matmul (split, it would be
// computed twice).
// CHECK-LABEL: func.func @split_and_whole
// CHECK-COUNT-1: kiln.matmul
// CHECK-NOT: kiln.matmul
func.func @split_and_whole(%x: tensor<3x8xf32>) -> (tensor<3x4xf32>, tensor<3x6xf32>) {
  %w = kiln.weight "w" from "model.onnx" at 0 : tensor<8x6xf32>
  %p = kiln.matmul %x, %w : tensor<3x8xf32>, tensor<8x6xf32>
  %q = kiln.slice %p starts = [0, 0] ends = [3, 4] steps = [1, 1] : tensor<3x6xf32>
  return %q, %p : tensor<3x4xf32>, tensor<3x6xf32>
}

// -----

// The same with dynamic dims (torch's `k[:, :, :4] = u1; k[:, :, 4:] = u2`
// under dynamic axes): the indices are a grid computed from shapes, each
// coordinate a Range (or a constant slice of one) along its axis, expanded
// to the grid and concatenated on the last axis; the second part is sized
// by a slice of the first scatter, which reads only its shape (the base's).
// The parts tile the base along the last axis: a concatenation.
// CHECK-LABEL: func.func @grid_scatters
// CHECK-NOT: kiln.scatter_nd
// CHECK: %[[U2:.*]] = kiln.expand %arg1
// CHECK-NEXT: %[[K:.*]] = kiln.concat %arg0, %[[U2]] axis = 2 : tensor<?x2x4xf32>, tensor<?x2x2xf32>
// CHECK-NEXT: return %[[K]]
func.func @grid_scatters(%u1: tensor<?x2x4xf32> {kiln.dim_names = ["b", "", ""]},
                         %u2: tensor<?x2x2xf32> {kiln.dim_names = ["b", "", ""]}) -> tensor<?x2x6xf32> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %c6 = arith.constant dense<6> : tensor<i64>
  %unit = arith.constant dense<[0, 0, 0, 1]> : tensor<4xi64>
  %su = kiln.shape %u1 : tensor<?x2x4xf32>
  %b = kiln.gather %su[%c0] axis = 0 : tensor<3xi64>, tensor<i64>
  %b1 = kiln.reshape %b : tensor<i64> -> tensor<1xi64>
  %two = arith.constant dense<[2]> : tensor<1xi64>
  %six = arith.constant dense<[6]> : tensor<1xi64>
  %target = kiln.concat %b1, %two, %six axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %base = kiln.expand %zero shape %target : tensor<3xi64> : tensor<f32> -> tensor<?x2x6xf32>
  %r0 = kiln.range %c0, %b, %c1 : tensor<i64>
  %r1 = kiln.range %c0, %c2, %c1 : tensor<i64>
  %r2 = kiln.range %c0, %c6, %c1 : tensor<i64>
  %a0 = kiln.reshape %r0 : tensor<?xi64> -> tensor<?x1x1xi64>
  %a1 = kiln.reshape %r1 : tensor<?xi64> -> tensor<?x1xi64>
  // k[:, :, :4] = u1
  %lo = kiln.slice %r2 starts = [0] ends = [4] steps = [1] : tensor<?xi64>
  %g01 = kiln.binary add %a0, %a1 : tensor<?x1x1xi64>, tensor<?x1xi64>
  %g = kiln.binary add %g01, %lo : tensor<?x?x1xi64>, tensor<?xi64>
  %gs = kiln.shape %g : tensor<?x?x?xi64>
  %e0 = kiln.expand %a0 shape %gs : tensor<3xi64> : tensor<?x1x1xi64> -> tensor<?x?x?xi64>
  %e1 = kiln.expand %a1 shape %gs : tensor<3xi64> : tensor<?x1xi64> -> tensor<?x?x?xi64>
  %e2 = kiln.expand %lo shape %gs : tensor<3xi64> : tensor<?xi64> -> tensor<?x?x?xi64>
  %x0 = kiln.reshape %e0 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x1 = kiln.reshape %e1 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x2 = kiln.reshape %e2 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %idx = kiln.concat %x0, %x1, %x2 axis = -1 : tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>
  %s1 = kiln.scatter_nd %u1 into %base[%idx] : tensor<?x2x6xf32>, tensor<?x?x?x3xi64>, tensor<?x2x4xf32>
  // k[:, :, 4:] = u2, sized by a slice of the first scatter
  %hi = kiln.slice %r2 starts = [4] ends = [9223372036854775807] steps = [1] : tensor<?xi64>
  %g2 = kiln.binary add %g01, %hi : tensor<?x?x1xi64>, tensor<?xi64>
  %gs2 = kiln.shape %g2 : tensor<?x?x?xi64>
  %f0 = kiln.expand %a0 shape %gs2 : tensor<3xi64> : tensor<?x1x1xi64> -> tensor<?x?x?xi64>
  %f1 = kiln.expand %a1 shape %gs2 : tensor<3xi64> : tensor<?x1xi64> -> tensor<?x?x?xi64>
  %f2 = kiln.expand %hi shape %gs2 : tensor<3xi64> : tensor<?xi64> -> tensor<?x?x?xi64>
  %y0 = kiln.reshape %f0 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %y1 = kiln.reshape %f1 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %y2 = kiln.reshape %f2 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %idx2 = kiln.concat %y0, %y1, %y2 axis = -1 : tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>
  %part = kiln.slice %s1 starts = [0, 0, 4] ends = [9223372036854775807, 9223372036854775807, 9223372036854775807] steps = [1, 1, 1] : tensor<?x2x6xf32>
  %ps = kiln.shape %part : tensor<?x2x2xf32>
  %u2e = kiln.expand %u2 shape %ps : tensor<3xi64> : tensor<?x2x2xf32> -> tensor<?x2x2xf32>
  %s2 = kiln.scatter_nd %u2e into %s1[%idx2] : tensor<?x2x6xf32>, tensor<?x?x?x3xi64>, tensor<?x2x2xf32>
  return %s2 : tensor<?x2x6xf32>
}

// -----

// A grid covering only part of the base ([..., :4] of 6) stays a scatter.
// CHECK-LABEL: func.func @grid_scatter_partial
// CHECK: kiln.scatter_nd
func.func @grid_scatter_partial(%u1: tensor<?x2x4xf32> {kiln.dim_names = ["b", "", ""]},
                         %u2: tensor<?x2x2xf32> {kiln.dim_names = ["b", "", ""]}) -> tensor<?x2x6xf32> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %c6 = arith.constant dense<6> : tensor<i64>
  %unit = arith.constant dense<[0, 0, 0, 1]> : tensor<4xi64>
  %su = kiln.shape %u1 : tensor<?x2x4xf32>
  %b = kiln.gather %su[%c0] axis = 0 : tensor<3xi64>, tensor<i64>
  %b1 = kiln.reshape %b : tensor<i64> -> tensor<1xi64>
  %two = arith.constant dense<[2]> : tensor<1xi64>
  %six = arith.constant dense<[6]> : tensor<1xi64>
  %target = kiln.concat %b1, %two, %six axis = 0 : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %base = kiln.expand %zero shape %target : tensor<3xi64> : tensor<f32> -> tensor<?x2x6xf32>
  %r0 = kiln.range %c0, %b, %c1 : tensor<i64>
  %r1 = kiln.range %c0, %c2, %c1 : tensor<i64>
  %r2 = kiln.range %c0, %c6, %c1 : tensor<i64>
  %a0 = kiln.reshape %r0 : tensor<?xi64> -> tensor<?x1x1xi64>
  %a1 = kiln.reshape %r1 : tensor<?xi64> -> tensor<?x1xi64>
  // k[:, :, :4] = u1
  %lo = kiln.slice %r2 starts = [0] ends = [4] steps = [1] : tensor<?xi64>
  %g01 = kiln.binary add %a0, %a1 : tensor<?x1x1xi64>, tensor<?x1xi64>
  %g = kiln.binary add %g01, %lo : tensor<?x?x1xi64>, tensor<?xi64>
  %gs = kiln.shape %g : tensor<?x?x?xi64>
  %e0 = kiln.expand %a0 shape %gs : tensor<3xi64> : tensor<?x1x1xi64> -> tensor<?x?x?xi64>
  %e1 = kiln.expand %a1 shape %gs : tensor<3xi64> : tensor<?x1xi64> -> tensor<?x?x?xi64>
  %e2 = kiln.expand %lo shape %gs : tensor<3xi64> : tensor<?xi64> -> tensor<?x?x?xi64>
  %x0 = kiln.reshape %e0 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x1 = kiln.reshape %e1 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x2 = kiln.reshape %e2 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %idx = kiln.concat %x0, %x1, %x2 axis = -1 : tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>
  %s1 = kiln.scatter_nd %u1 into %base[%idx] : tensor<?x2x6xf32>, tensor<?x?x?x3xi64>, tensor<?x2x4xf32>
  return %s1 : tensor<?x2x6xf32>
}

// -----

// A coordinate expanded to a permutation of the grid's shape (as many
// elements, [4, 3, 2] for [2, 3, 4]) does not enumerate the box in the
// updates' order: the scatter stays.
// CHECK-LABEL: func.func @grid_perm
// CHECK: kiln.scatter_nd
func.func @grid_perm(%u: tensor<2x3x4xf32>, %base: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %c3 = arith.constant dense<3> : tensor<i64>
  %c4 = arith.constant dense<4> : tensor<i64>
  %t = arith.constant dense<[2, 3, 4]> : tensor<3xi64>
  %tp = arith.constant dense<[4, 3, 2]> : tensor<3xi64>
  %unit = arith.constant dense<[2, 3, 4, 1]> : tensor<4xi64>
  %r0 = kiln.range %c0, %c2, %c1 : tensor<i64>
  %r1 = kiln.range %c0, %c3, %c1 : tensor<i64>
  %r2 = kiln.range %c0, %c4, %c1 : tensor<i64>
  %a0 = kiln.reshape %r0 : tensor<?xi64> -> tensor<?x1x1xi64>
  %a1 = kiln.reshape %r1 : tensor<?xi64> -> tensor<1x?x1xi64>
  %e0 = kiln.expand %a0 shape %t : tensor<3xi64> : tensor<?x1x1xi64> -> tensor<?x?x?xi64>
  %e1 = kiln.expand %a1 shape %tp : tensor<3xi64> : tensor<1x?x1xi64> -> tensor<?x?x?xi64>
  %e2 = kiln.expand %r2 shape %t : tensor<3xi64> : tensor<?xi64> -> tensor<?x?x?xi64>
  %x0 = kiln.reshape %e0 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x1 = kiln.reshape %e1 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %x2 = kiln.reshape %e2 shape %unit : tensor<4xi64> : tensor<?x?x?xi64> -> tensor<?x?x?x1xi64>
  %idx = kiln.concat %x0, %x1, %x2 axis = -1 : tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>, tensor<?x?x?x1xi64>
  %s = kiln.scatter_nd %u into %base[%idx] : tensor<2x3x4xf32>, tensor<?x?x?x3xi64>, tensor<2x3x4xf32>
  return %s : tensor<2x3x4xf32>
}

// -----

// Proven to tile as symbols, the parts may be typed apart from the scatter
// (`?` Ranges of constants): a tensor.cast keeps the scatter's type.
// CHECK-LABEL: func.func @grid_type
// CHECK-NOT: kiln.scatter_nd
// CHECK: %[[C:.*]] = tensor.cast %{{.*}} : tensor<?x?xi64> to tensor<2x6xi64>
// CHECK-NEXT: return %[[C]]
func.func @grid_type(%base: tensor<2x6xi64>) -> tensor<2x6xi64> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %c6 = arith.constant dense<6> : tensor<i64>
  %t = arith.constant dense<[2, 6]> : tensor<2xi64>
  %unit = arith.constant dense<[0, 0, 1]> : tensor<3xi64>
  %r0 = kiln.range %c0, %c2, %c1 : tensor<i64>
  %r1 = kiln.range %c0, %c6, %c1 : tensor<i64>
  %a0 = kiln.reshape %r0 : tensor<?xi64> -> tensor<?x1xi64>
  %e0 = kiln.expand %a0 shape %t : tensor<2xi64> : tensor<?x1xi64> -> tensor<?x?xi64>
  %e1 = kiln.expand %r1 shape %t : tensor<2xi64> : tensor<?xi64> -> tensor<?x?xi64>
  %x0 = kiln.reshape %e0 shape %unit : tensor<3xi64> : tensor<?x?xi64> -> tensor<?x?x1xi64>
  %x1 = kiln.reshape %e1 shape %unit : tensor<3xi64> : tensor<?x?xi64> -> tensor<?x?x1xi64>
  %idx = kiln.concat %x0, %x1 axis = -1 : tensor<?x?x1xi64>, tensor<?x?x1xi64>
  %b1 = kiln.reshape %r1 : tensor<?xi64> -> tensor<1x?xi64>
  %sh = kiln.shape %e1 : tensor<?x?xi64>
  %u = kiln.expand %b1 shape %sh : tensor<2xi64> : tensor<1x?xi64> -> tensor<?x?xi64>
  %s = kiln.scatter_nd %u into %base[%idx] : tensor<2x6xi64>, tensor<?x?x2xi64>, tensor<?x?xi64>
  return %s : tensor<2x6xi64>
}
