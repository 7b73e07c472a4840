// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// torch's export of scaled dot-product attention with an additive mask:
// MatMul(Q, Transpose(K)), Div by sqrt(d), Add mask, Softmax, MatMul V.
// CHECK-LABEL: func.func @torch_form
// CHECK-NEXT: %[[O:.*]] = kiln.attention %arg0, %arg1, %arg2 mask(%arg3 : tensor<16x16xf32>) {scale = 1.250000e-01 : f32}
// CHECK-NEXT: return %[[O]]
func.func @torch_form(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>,
                      %mask: tensor<16x16xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x16x16xf32>, tensor<16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}

// -----

// Scale as a multiply on the left, no mask.
// CHECK-LABEL: func.func @mul_scale
// CHECK: kiln.attention %arg0, %arg1, %arg2 {scale = 5.000000e-01 : f32}
func.func @mul_scale(%q: tensor<2x2x8x4xf32>, %k: tensor<2x2x8x4xf32>, %v: tensor<2x2x8x4xf32>) -> tensor<2x2x8x4xf32> {
  %h = arith.constant dense<0.5> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<2x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<2x2x8x4xf32>, tensor<2x2x4x8xf32>
  %d = kiln.binary mul %h, %s : tensor<f32>, tensor<2x2x8x8xf32>
  %p = kiln.softmax %d axis = 3 : tensor<2x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<2x2x8x8xf32>, tensor<2x2x8x4xf32>
  return %o : tensor<2x2x8x4xf32>
}

// -----

// A look-alike that must not fuse: a softmax over the queries. Keys
// transposed other than on their last two dimensions still are Kᵀ of
// another transpose of them (BERT writes key.permute(0, 2, 3, 1)): that
// transpose becomes K.
// CHECK-LABEL: func.func @wrong_axis
// CHECK-NOT: kiln.attention
// CHECK-LABEL: func.func @wrong_transpose
// CHECK: %[[K:.*]] = kiln.transpose %arg1 perm = [0, 2, 3, 1]
// CHECK: kiln.attention %arg0, %[[K]], %arg2 {scale = 1.000000e+00 : f32}
func.func @wrong_axis(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  %p = kiln.softmax %s axis = 2 : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
func.func @wrong_transpose(%q: tensor<1x2x8x8xf32>, %k: tensor<1x8x2x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %kt = kiln.transpose %k perm = [0, 2, 1, 3] : tensor<1x8x2x8xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// Llama's repeat_kv (Reshape to [B, Hkv, 1, S, D], Expand, Reshape to
// [B, Hq, S, D]) on K and V: the fused op reads the 2 shared heads.
// CHECK-LABEL: func.func @gqa
// CHECK: kiln.attention %arg0, %arg1, %arg2 {scale = 1.250000e-01 : f32} : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
// CHECK-NOT: kiln.expand
func.func @gqa(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %k5 = kiln.reshape %k : tensor<1x2x16x64xf32> -> tensor<1x2x1x16x64xf32>
  %ke = kiln.expand %k5 : tensor<1x2x1x16x64xf32> -> tensor<1x2x4x16x64xf32>
  %kr = kiln.reshape %ke : tensor<1x2x4x16x64xf32> -> tensor<1x8x16x64xf32>
  %v5 = kiln.reshape %v : tensor<1x2x16x64xf32> -> tensor<1x2x1x16x64xf32>
  %ve = kiln.expand %v5 : tensor<1x2x1x16x64xf32> -> tensor<1x2x4x16x64xf32>
  %vr = kiln.reshape %ve : tensor<1x2x4x16x64xf32> -> tensor<1x8x16x64xf32>
  %kt = kiln.transpose %kr perm = [0, 1, 3, 2] : tensor<1x8x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x8x16x64xf32>, tensor<1x8x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x8x16x16xf32>, tensor<f32>
  %p = kiln.softmax %d axis = -1 : tensor<1x8x16x16xf32>
  %o = kiln.matmul %p, %vr : tensor<1x8x16x16xf32>, tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// The same repeat from Tensor.repeat (a Tile of an inserted unit axis, as
// the importer canonicalizes it: unit axes everywhere, the copies right
// after the K/V head) and from torch.repeat_interleave (each head sliced,
// repeated, the groups concatenated in order): the 2 shared heads again.
// A Tile of the head axis itself (query head h reads h % 2, not h / 4) is
// not grouped-query attention: the op keeps the 8 repeated heads.
// CHECK-LABEL: func.func @gqa_tile
// CHECK: kiln.attention %arg0, %arg1, %arg1 {{.*}} : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
// CHECK-LABEL: func.func @gqa_interleave
// CHECK: kiln.attention %arg0, %arg1, %arg1 {{.*}} : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
// CHECK-LABEL: func.func @head_axis_tile
// CHECK: kiln.attention %arg0, %[[R:.*]], %[[R]] {{.*}} : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
func.func @gqa_tile(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %u = kiln.reshape %k : tensor<1x2x16x64xf32> -> tensor<1x1x1x2x1x1x1x16x1x64xf32>
  %e = kiln.expand %u : tensor<1x1x1x2x1x1x1x16x1x64xf32> -> tensor<1x1x1x2x4x1x1x16x1x64xf32>
  %r = kiln.reshape %e : tensor<1x1x1x2x4x1x1x16x1x64xf32> -> tensor<1x8x16x64xf32>
  %kt = kiln.transpose %r perm = [0, 1, 3, 2] : tensor<1x8x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x8x16x64xf32>, tensor<1x8x64x16xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x8x16x16xf32>
  %o = kiln.matmul %p, %r : tensor<1x8x16x16xf32>, tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
func.func @gqa_interleave(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %h0 = kiln.slice %k starts = [0, 0, 0, 0] ends = [9223372036854775807, 1, 9223372036854775807, 9223372036854775807] steps = [1, 1, 1, 1] : tensor<1x2x16x64xf32>
  %h1 = kiln.slice %k starts = [0, 1, 0, 0] ends = [9223372036854775807, 2, 9223372036854775807, 9223372036854775807] steps = [1, 1, 1, 1] : tensor<1x2x16x64xf32>
  %u0 = kiln.reshape %h0 : tensor<1x1x16x64xf32> -> tensor<1x1x1x16x64xf32>
  %e0 = kiln.expand %u0 : tensor<1x1x1x16x64xf32> -> tensor<1x1x4x16x64xf32>
  %r0 = kiln.reshape %e0 : tensor<1x1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  %u1 = kiln.reshape %h1 : tensor<1x1x16x64xf32> -> tensor<1x1x1x16x64xf32>
  %e1 = kiln.expand %u1 : tensor<1x1x1x16x64xf32> -> tensor<1x1x4x16x64xf32>
  %r1 = kiln.reshape %e1 : tensor<1x1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  %r = kiln.concat %r0, %r1 axis = 1 : tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>
  %kt = kiln.transpose %r perm = [0, 1, 3, 2] : tensor<1x8x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x8x16x64xf32>, tensor<1x8x64x16xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x8x16x16xf32>
  %o = kiln.matmul %p, %r : tensor<1x8x16x16xf32>, tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
func.func @head_axis_tile(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %u = kiln.reshape %k : tensor<1x2x16x64xf32> -> tensor<1x1x2x16x64xf32>
  %e = kiln.expand %u : tensor<1x1x2x16x64xf32> -> tensor<1x4x2x16x64xf32>
  %r = kiln.reshape %e : tensor<1x4x2x16x64xf32> -> tensor<1x8x16x64xf32>
  %kt = kiln.transpose %r perm = [0, 1, 3, 2] : tensor<1x8x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x8x16x64xf32>, tensor<1x8x64x16xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x8x16x16xf32>
  %o = kiln.matmul %p, %r : tensor<1x8x16x16xf32>, tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// Causal masks become the attribute, whether given as data or built in the
// graph: Trilu(upper, k = 1) of a -inf fill (torch.triu), and
// Where(j > i, lowest, 0) from a position vector (a Range once folded) and
// its column view (masked_fill with finfo.min).
// CHECK-LABEL: func.func @causal_trilu
// CHECK: kiln.attention %arg0, %arg1, %arg2 {causal, scale = 1.250000e-01 : f32}
// CHECK-LABEL: func.func @causal_where_ranges
// CHECK: kiln.attention %arg0, %arg1, %arg2 {causal, scale = 1.250000e-01 : f32}
// CHECK-LABEL: func.func @causal_data
// CHECK: kiln.attention %arg0, %arg1, %arg2 {causal, scale = 1.250000e-01 : f32}
func.func @causal_trilu(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<16x16xf32>
  %one = arith.constant dense<1> : tensor<i64>
  %mask = kiln.trilu %ninf k %one : tensor<i64> upper : tensor<16x16xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x16x16xf32>, tensor<16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @causal_where_ranges(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %lowest = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %j = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]> : tensor<16xi64>
  %i = kiln.reshape %j : tensor<16xi64> -> tensor<16x1xi64>
  %later = kiln.compare gt %j, %i : tensor<16xi64>, tensor<16x1xi64>
  %m2 = kiln.where %later, %lowest, %zero : tensor<16x16xi1>, tensor<f32>, tensor<f32>
  %mask = kiln.reshape %m2 : tensor<16x16xf32> -> tensor<1x1x16x16xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x16x16xf32>, tensor<1x1x16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @causal_data(%q: tensor<1x4x4x64xf32>, %k: tensor<1x4x4x64xf32>, %v: tensor<1x4x4x64xf32>) -> tensor<1x4x4x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %mask = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000],
                                [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x4x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x4x64xf32>, tensor<1x4x64x4xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x4x4xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x4x4xf32>, tensor<4x4xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x4x4xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x4x4xf32>, tensor<1x4x4x64xf32>
  return %o : tensor<1x4x4x64xf32>
}

// -----

// Masks that only look causal stay masks: the diagonal hidden too
// (Trilu k = 0), a -10000 fill (not -inf: large scores survive it), and a
// triangle aligned top-left with fewer queries than keys (causal aligns
// bottom-right).
// CHECK-LABEL: func.func @diagonal_hidden
// CHECK: kiln.attention {{.*}} mask(
// CHECK-NOT: causal
// CHECK-LABEL: func.func @finite_fill
// CHECK: kiln.attention {{.*}} mask(
// CHECK-NOT: causal
// CHECK-LABEL: func.func @top_left
// CHECK: kiln.attention {{.*}} mask(
// CHECK-NOT: causal
func.func @diagonal_hidden(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<16x16xf32>
  %mask = kiln.trilu %ninf upper : tensor<16x16xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x16x16xf32>, tensor<16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @finite_fill(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %fill = arith.constant dense<-10000.0> : tensor<16x16xf32>
  %one = arith.constant dense<1> : tensor<i64>
  %mask = kiln.trilu %fill k %one : tensor<i64> upper : tensor<16x16xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x16x16xf32>, tensor<16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @top_left(%q: tensor<1x4x4x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x4x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<4x16xf32>
  %one = arith.constant dense<1> : tensor<i64>
  %mask = kiln.trilu %ninf k %one : tensor<i64> upper : tensor<4x16xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x4x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x4x16xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<1x4x4x16xf32>, tensor<4x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x4x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x4x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x4x64xf32>
}

// -----

// DeepSeek's absorbed MLA decode: scores = (q_latent · latentᵀ + q_pe ·
// peᵀ) * scale over one latent "head" shared by all query heads, V the
// latent itself: one attention over the concatenated features.
// CHECK-LABEL: func.func @split_scores
// CHECK-DAG: %[[Q:.*]] = kiln.concat %arg0, %arg1 axis = 3 : tensor<1x4x1x32xf32>, tensor<1x4x1x8xf32>
// CHECK-DAG: %[[K:.*]] = kiln.concat %arg2, %arg3 axis = 3 : tensor<1x1x16x32xf32>, tensor<1x1x16x8xf32>
// CHECK: kiln.attention %[[Q]], %[[K]], %arg2 {scale = 2.500000e-01 : f32} : tensor<1x4x1x40xf32>, tensor<1x1x16x40xf32>, tensor<1x1x16x32xf32> -> tensor<1x4x1x32xf32>
func.func @split_scores(%ql: tensor<1x4x1x32xf32>, %qp: tensor<1x4x1x8xf32>, %lat: tensor<1x1x16x32xf32>,
                        %pe: tensor<1x1x16x8xf32>) -> tensor<1x4x1x32xf32> {
  %c = arith.constant dense<0.25> : tensor<f32>
  %lt = kiln.transpose %lat perm = [0, 1, 3, 2] : tensor<1x1x16x32xf32>
  %pt = kiln.transpose %pe perm = [0, 1, 3, 2] : tensor<1x1x16x8xf32>
  %a = kiln.matmul %ql, %lt : tensor<1x4x1x32xf32>, tensor<1x1x32x16xf32>
  %b = kiln.matmul %qp, %pt : tensor<1x4x1x8xf32>, tensor<1x1x8x16xf32>
  %s = kiln.binary add %a, %b : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
  %d = kiln.binary mul %s, %c : tensor<1x4x1x16xf32>, tensor<f32>
  %p = kiln.softmax %d axis = -1 : tensor<1x4x1x16xf32>
  %o = kiln.matmul %p, %lat : tensor<1x4x1x16xf32>, tensor<1x1x16x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// Split scores whose K parts have different head counts (per-head keys
// against one broadcast RoPE key) are not one concatenation: unfused, with
// the reason in the report.
// CHECK-LABEL: func.func @split_scores_mismatch
// CHECK-NOT: kiln.concat
// CHECK-NOT: kiln.attention
func.func @split_scores_mismatch(%ql: tensor<1x4x1x32xf32>, %qp: tensor<1x4x1x8xf32>, %lat: tensor<1x4x16x32xf32>,
                                 %pe: tensor<1x1x16x8xf32>) -> tensor<1x4x1x32xf32> {
  %lt = kiln.transpose %lat perm = [0, 1, 3, 2] : tensor<1x4x16x32xf32>
  %pt = kiln.transpose %pe perm = [0, 1, 3, 2] : tensor<1x1x16x8xf32>
  %a = kiln.matmul %ql, %lt : tensor<1x4x1x32xf32>, tensor<1x4x32x16xf32>
  %b = kiln.matmul %qp, %pt : tensor<1x4x1x8xf32>, tensor<1x1x8x16xf32>
  %s = kiln.binary add %a, %b : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x4x1x16xf32>
  %o = kiln.matmul %p, %lat : tensor<1x4x1x16xf32>, tensor<1x4x16x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// onnxscript's scaled_dot_product_attention (torch.export, opsets 18-22)
// after repeat_kv: Q and Kᵀ each times sqrt(scale), Kᵀ through [B*H, L,
// D] reshapes, the causal mask a folded constant: the product of the two
// factors is the scale, the repeated K/V heads are read shared.
// CHECK-LABEL: func.func @sdpa_onnxscript
// CHECK: kiln.attention %arg0, %arg1, %arg2 {causal, scale = 2.500000e-01 : f32} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
// CHECK-NOT: kiln.softmax
func.func @sdpa_onnxscript(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %c = arith.constant dense<0.5> : tensor<1xf32>
  %mask = arith.constant dense<[[0.000000e+00, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<8x8xf32>
  %k5 = kiln.reshape %k : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %ke = kiln.expand %k5 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %km = kiln.reshape %ke : tensor<1x2x2x8x16xf32> -> tensor<4x8x16xf32>
  %kmt = kiln.transpose %km perm = [0, 2, 1] : tensor<4x8x16xf32>
  %kt = kiln.reshape %kmt : tensor<4x16x8xf32> -> tensor<1x4x16x8xf32>
  %v5 = kiln.reshape %v : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %ve = kiln.expand %v5 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %vr = kiln.reshape %ve : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %qc = kiln.binary mul %q, %c : tensor<1x4x8x16xf32>, tensor<1xf32>
  %ktc = kiln.binary mul %kt, %c : tensor<1x4x16x8xf32>, tensor<1xf32>
  %s = kiln.matmul %qc, %ktc : tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>
  %sm = kiln.binary add %s, %mask : tensor<1x4x8x8xf32>, tensor<8x8xf32>
  %p = kiln.softmax %sm axis = -1 : tensor<1x4x8x8xf32>
  %o = kiln.matmul %p, %vr : tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// ONNX Attention (opset 23, imported as one op) over K/V heads repeated
// for grouped-query attention: the op reads the 2 shared heads. With a
// past cache the present outputs keep the heads they were given.
// CHECK-LABEL: func.func @imported_gqa
// CHECK: kiln.attention %arg0, %arg1, %arg2 {causal} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
// CHECK-NOT: kiln.expand
func.func @imported_gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %k5 = kiln.reshape %k : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %ke = kiln.expand %k5 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %kr = kiln.reshape %ke : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %v5 = kiln.reshape %v : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %ve = kiln.expand %v5 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %vr = kiln.reshape %ve : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %o = kiln.attention %q, %kr, %vr {causal} : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// Gemma 2's attention-logit soft-capping (Hugging Face: scores / c, tanh,
// * c, then the mask): the op takes `softcap` and caps the scaled scores
// before the mask. A factor outside the cap is not the op's order: kept.
// CHECK-LABEL: func.func @gemma_softcap
// CHECK: kiln.attention %arg0, %arg1, %arg2 mask(%arg3 : tensor<16x16xf32>) {scale = 1.250000e-01 : f32, softcap = 5.000000e+01 : f32}
// CHECK-LABEL: func.func @factor_outside_cap
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @gemma_softcap(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>,
                         %mask: tensor<16x16xf32>) -> tensor<1x4x16x64xf32> {
  %c8 = arith.constant dense<8.0> : tensor<f32>
  %cap = arith.constant dense<50.0> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %d = kiln.binary div %s, %c8 : tensor<1x4x16x16xf32>, tensor<f32>
  %dc = kiln.binary div %d, %cap : tensor<1x4x16x16xf32>, tensor<f32>
  %t = kiln.unary tanh %dc : tensor<1x4x16x16xf32>
  %capped = kiln.binary mul %t, %cap : tensor<1x4x16x16xf32>, tensor<f32>
  %m = kiln.binary add %capped, %mask : tensor<1x4x16x16xf32>, tensor<16x16xf32>
  %p = kiln.softmax %m axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @factor_outside_cap(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %cap = arith.constant dense<50.0> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x16x64xf32>
  %s = kiln.matmul %q, %kt : tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>
  %dc = kiln.binary div %s, %cap : tensor<1x4x16x16xf32>, tensor<f32>
  %t = kiln.unary tanh %dc : tensor<1x4x16x16xf32>
  %capped = kiln.binary mul %t, %cap : tensor<1x4x16x16xf32>, tensor<f32>
  %scaled = kiln.binary mul %capped, %two : tensor<1x4x16x16xf32>, tensor<f32>
  %p = kiln.softmax %scaled axis = -1 : tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}

// -----

// torch's scaled_dot_product_attention as both exporters write it: a
// boolean mask as Where(m, 0, -inf), and the NaN guard on the
// probabilities, Where(IsNaN(p), 0, p) (rows whose every key is masked;
// kiln.attention gives zeros there, so the guard is absorbed exactly).
// CHECK-LABEL: func.func @sdpa_nan_guard
// CHECK: %[[M:.*]] = kiln.where %arg3
// CHECK-NEXT: %[[O:.*]] = kiln.attention %arg0, %arg1, %arg2 mask(%[[M]] : tensor<1x1x8x8xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NEXT: return %[[O]]
func.func @sdpa_nan_guard(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>,
                          %keep: tensor<1x1x8x8xi1>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant dense<0.0> : tensor<1xf32>
  %ninf = arith.constant dense<0xFF800000> : tensor<1xf32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  %ss = kiln.binary mul %s, %half : tensor<1x2x8x8xf32>, tensor<f32>
  %mask = kiln.where %keep, %zero, %ninf : tensor<1x1x8x8xi1>, tensor<1xf32>, tensor<1xf32>
  %m = kiln.binary add %ss, %mask : tensor<1x2x8x8xf32>, tensor<1x1x8x8xf32>
  %p = kiln.softmax %m axis = 3 : tensor<1x2x8x8xf32>
  %nan = kiln.unary is_nan %p : tensor<1x2x8x8xf32>
  %g = kiln.where %nan, %zero, %p : tensor<1x2x8x8xi1>, tensor<1xf32>, tensor<1x2x8x8xf32>
  %o = kiln.matmul %g, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// Look-alikes of the guard: NaN rows replaced by something other than 0,
// and a guard testing another tensor. Neither is absorbed.
// CHECK-LABEL: func.func @not_a_nan_guard
// CHECK-NOT: kiln.attention
func.func @not_a_nan_guard(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>,
                           %other: tensor<1x2x8x8xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %one = arith.constant dense<1.0> : tensor<1xf32>
  %zero = arith.constant dense<0.0> : tensor<1xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  %p = kiln.softmax %s axis = 3 : tensor<1x2x8x8xf32>
  %nan = kiln.unary is_nan %p : tensor<1x2x8x8xf32>
  %g = kiln.where %nan, %one, %p : tensor<1x2x8x8xi1>, tensor<1xf32>, tensor<1x2x8x8xf32>
  %o = kiln.matmul %g, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  %s2 = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  %p2 = kiln.softmax %s2 axis = 3 : tensor<1x2x8x8xf32>
  %nan2 = kiln.unary is_nan %other : tensor<1x2x8x8xf32>
  %g2 = kiln.where %nan2, %zero, %p2 : tensor<1x2x8x8xi1>, tensor<1xf32>, tensor<1x2x8x8xf32>
  %o2 = kiln.matmul %g2, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o, %o2 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// BERT's key: the projection [B, S, H, D] permuted (0, 2, 3, 1) straight
// to Kᵀ, each side scaled by sqrt(scale) (SDPA): K is its (0, 2, 1, 3)
// transpose.
// CHECK-LABEL: func.func @bert_key
// CHECK: %[[K:.*]] = kiln.transpose %arg1 perm = [0, 2, 1, 3]
// CHECK: kiln.attention %arg0, %[[K]], %arg2 {scale = 2.500000e-01 : f32}
func.func @bert_key(%q: tensor<1x2x8x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %c = arith.constant dense<0.5> : tensor<f32>
  %kt = kiln.transpose %k perm = [0, 2, 3, 1] : tensor<1x8x2x4xf32>
  %qs = kiln.binary mul %q, %c : tensor<1x2x8x4xf32>, tensor<f32>
  %ks = kiln.binary mul %kt, %c : tensor<1x2x4x8xf32>, tensor<f32>
  %s = kiln.matmul %qs, %ks : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  %p = kiln.softmax %s axis = 3 : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// Dynamic batch and lengths (an export with dynamic axes): Q, K, V and the
// mask's dims are one size where the graph makes them one symbol (here the
// inputs name them alike), so the attention is raised with `?` dims.
// Llama's repeat_kv with dynamic dims keeps its shape operands: the -1 of
// [0, 0, 1, -1, 16] is the length (the other entries account for the rest).
// CHECK-LABEL: func.func @dynamic_lengths
// CHECK: %[[O:.*]] = kiln.attention %arg0, %arg1, %arg2 mask(%arg3 : tensor<?x1x?x?xf32>) {scale = 2.500000e-01 : f32} : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x4x?x16xf32>
// CHECK-NEXT: return %[[O]]
func.func @dynamic_lengths(%q: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                           %k: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "g", "s", "d"]},
                           %v: tensor<?x2x?x16xf32> {kiln.dim_names = ["b", "g", "s", "d"]},
                           %mask: tensor<?x1x?x?xf32> {kiln.dim_names = ["b", "one", "s", "s"]})
    -> tensor<?x4x?x16xf32> {
  %c4 = arith.constant dense<4.0> : tensor<f32>
  %split = arith.constant dense<[0, 0, 1, -1, 16]> : tensor<5xi64>
  %rep = arith.constant dense<[1, 1, 2, 1, 16]> : tensor<5xi64>
  %merge = arith.constant dense<[0, 4, -1, 16]> : tensor<4xi64>
  %k5 = kiln.reshape %k shape %split : tensor<5xi64> : tensor<?x2x?x16xf32> -> tensor<?x2x1x?x16xf32>
  %ke = kiln.expand %k5 shape %rep : tensor<5xi64> : tensor<?x2x1x?x16xf32> -> tensor<?x2x2x?x16xf32>
  %kr = kiln.reshape %ke shape %merge : tensor<4xi64> : tensor<?x2x2x?x16xf32> -> tensor<?x4x?x16xf32>
  %v5 = kiln.reshape %v shape %split : tensor<5xi64> : tensor<?x2x?x16xf32> -> tensor<?x2x1x?x16xf32>
  %ve = kiln.expand %v5 shape %rep : tensor<5xi64> : tensor<?x2x1x?x16xf32> -> tensor<?x2x2x?x16xf32>
  %vr = kiln.reshape %ve shape %merge : tensor<4xi64> : tensor<?x2x2x?x16xf32> -> tensor<?x4x?x16xf32>
  %kt = kiln.transpose %kr perm = [0, 1, 3, 2] : tensor<?x4x?x16xf32>
  %s = kiln.matmul %q, %kt : tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>
  %d = kiln.binary div %s, %c4 : tensor<?x4x?x?xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>
  %p = kiln.softmax %m axis = -1 : tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %vr : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A decode step with dynamic lengths (an export with dynamic axes): K and V
// are Concat(past, new) along the length (one axis written -2), the mask a
// causal comparison of positions Range(0, past + new) against
// Range(0, new) + past. The keys' length and the mask's last dim are one
// size, the sum past + new, so the attention is raised with `?` lengths
// and the concatenations stay (kiln-session-state keeps them in place).
// CHECK-LABEL: func.func @decode_step
// CHECK-DAG: %[[K:.*]] = kiln.concat %arg3, %arg1 axis = -2
// CHECK-DAG: %[[V:.*]] = kiln.concat %arg4, %arg2 axis = 2
// CHECK: %[[M:.*]] = kiln.where
// CHECK: %[[O:.*]] = kiln.attention %arg0, %[[K]], %[[V]] mask(%[[M]] : tensor<1x1x?x?xf32>) {scale = 2.500000e-01 : f32}
// CHECK-NEXT: return %[[O]], %[[K]], %[[V]]
func.func @decode_step(%q: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                       %k: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                       %v: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                       %pk: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "p", "d"]},
                       %pv: tensor<?x4x?x16xf32> {kiln.dim_names = ["b", "h", "p", "d"]})
    -> (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %c2 = arith.constant dense<2> : tensor<i64>
  %c4 = arith.constant dense<4.0> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %kk = kiln.concat %pk, %k axis = -2 : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>
  %vv = kiln.concat %pv, %v axis = 2 : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>
  %pshape = kiln.shape %pk : tensor<?x4x?x16xf32>
  %p = kiln.gather %pshape[%c2] axis = 0 : tensor<4xi64>, tensor<i64>
  %qshape = kiln.shape %q : tensor<?x4x?x16xf32>
  %s = kiln.gather %qshape[%c2] axis = 0 : tensor<4xi64>, tensor<i64>
  %t = kiln.binary add %p, %s : tensor<i64>, tensor<i64>
  %kpos = kiln.range %c0, %t, %c1 : tensor<i64>
  %qpos0 = kiln.range %c0, %s, %c1 : tensor<i64>
  %qpos = kiln.binary add %qpos0, %p : tensor<?xi64>, tensor<i64>
  %kr = kiln.reshape %kpos : tensor<?xi64> -> tensor<1x1x1x?xi64>
  %qr = kiln.reshape %qpos : tensor<?xi64> -> tensor<1x1x?x1xi64>
  %allowed = kiln.compare le %kr, %qr : tensor<1x1x1x?xi64>, tensor<1x1x?x1xi64>
  %mask = kiln.where %allowed, %zero, %ninf : tensor<1x1x?x?xi1>, tensor<f32>, tensor<f32>
  %kt = kiln.transpose %kk perm = [0, 1, 3, 2] : tensor<?x4x?x16xf32>
  %sc = kiln.matmul %q, %kt : tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>
  %d = kiln.binary div %sc, %c4 : tensor<?x4x?x?xf32>, tensor<f32>
  %m = kiln.binary add %d, %mask : tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>
  %pr = kiln.softmax %m axis = -1 : tensor<?x4x?x?xf32>
  %o = kiln.matmul %pr, %vv : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>
  return %o, %kk, %vv : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>
}
