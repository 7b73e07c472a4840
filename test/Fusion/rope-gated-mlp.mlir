// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// Llama's rotate_half RoPE: x * cos + Concat(-x[..., 32:], x[..., :32]) * sin.
// CHECK-LABEL: func.func @rope_rotate_half
// CHECK-NEXT: %[[R:.*]] = kiln.rope %arg0, %arg1, %arg2 : tensor<1x8x16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope_rotate_half(%x: tensor<1x8x16x64xf32>, %cos: tensor<16x64xf32>, %sin: tensor<16x64xf32>) -> tensor<1x8x16x64xf32> {
  %lo = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 8, 16, 32] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  %hi = kiln.slice %x starts = [0, 0, 0, 32] ends = [1, 8, 16, 9223372036854775807] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  %neg = kiln.unary neg %hi : tensor<1x8x16x32xf32>
  %rot = kiln.concat %neg, %lo axis = -1 : tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>
  %a = kiln.binary mul %x, %cos : tensor<1x8x16x64xf32>, tensor<16x64xf32>
  %b = kiln.binary mul %rot, %sin : tensor<1x8x16x64xf32>, tensor<16x64xf32>
  %y = kiln.binary add %a, %b : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

// Look-alike: the halves swapped without the negation is not a rotation.
// CHECK-LABEL: func.func @no_negation
// CHECK-NOT: kiln.rope
func.func @no_negation(%x: tensor<1x8x16x64xf32>, %cos: tensor<16x64xf32>, %sin: tensor<16x64xf32>) -> tensor<1x8x16x64xf32> {
  %lo = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 8, 16, 32] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  %hi = kiln.slice %x starts = [0, 0, 0, 32] ends = [1, 8, 16, 64] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  %rot = kiln.concat %hi, %lo axis = -1 : tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>
  %a = kiln.binary mul %x, %cos : tensor<1x8x16x64xf32>, tensor<16x64xf32>
  %b = kiln.binary mul %rot, %sin : tensor<1x8x16x64xf32>, tensor<16x64xf32>
  %y = kiln.binary add %a, %b : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

// SwiGLU: down(x·G * sigmoid(x·G) * (x·U)).
// CHECK-LABEL: func.func @swiglu
// CHECK-NEXT: %[[M:.*]] = kiln.gated_mlp %arg0, %arg1, %arg2, %arg3 : tensor<4x32xf32>, tensor<32x64xf32>, tensor<32x64xf32>, tensor<64x32xf32>
// CHECK-NEXT: return %[[M]]
func.func @swiglu(%x: tensor<4x32xf32>, %g: tensor<32x64xf32>, %u: tensor<32x64xf32>, %d: tensor<64x32xf32>) -> tensor<4x32xf32> {
  %a = kiln.matmul %x, %g : tensor<4x32xf32>, tensor<32x64xf32>
  %s = kiln.unary sigmoid %a : tensor<4x64xf32>
  %silu = kiln.binary mul %a, %s : tensor<4x64xf32>, tensor<4x64xf32>
  %b = kiln.matmul %x, %u : tensor<4x32xf32>, tensor<32x64xf32>
  %h = kiln.binary mul %silu, %b : tensor<4x64xf32>, tensor<4x64xf32>
  %y = kiln.matmul %h, %d : tensor<4x64xf32>, tensor<64x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// Look-alike: gate and up read different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: kiln.gated_mlp
func.func @different_inputs(%x: tensor<4x32xf32>, %z: tensor<4x32xf32>, %g: tensor<32x64xf32>, %u: tensor<32x64xf32>, %d: tensor<64x32xf32>) -> tensor<4x32xf32> {
  %a = kiln.matmul %x, %g : tensor<4x32xf32>, tensor<32x64xf32>
  %s = kiln.unary sigmoid %a : tensor<4x64xf32>
  %silu = kiln.binary mul %a, %s : tensor<4x64xf32>, tensor<4x64xf32>
  %b = kiln.matmul %z, %u : tensor<4x32xf32>, tensor<32x64xf32>
  %h = kiln.binary mul %silu, %b : tensor<4x64xf32>, tensor<4x64xf32>
  %y = kiln.matmul %h, %d : tensor<4x64xf32>, tensor<64x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// RoPE of heads just transposed out of the projection ([B, S, H, D] ->
// [B, H, S, D]) runs before the transpose, the [S, D] tables viewed
// [1, S, 1, D]: the transpose moves next to its consumer (the attention
// kernel reads that layout in place).
// CHECK-LABEL: func.func @rope_before_transpose
// CHECK-DAG: %[[C:.*]] = kiln.reshape %arg1 : tensor<16x64xf32> -> tensor<1x16x1x64xf32>
// CHECK-DAG: %[[S:.*]] = kiln.reshape %arg2 : tensor<16x64xf32> -> tensor<1x16x1x64xf32>
// CHECK: %[[R:.*]] = kiln.rope %arg0, %[[C]], %[[S]] : tensor<1x16x4x64xf32>, tensor<1x16x1x64xf32>, tensor<1x16x1x64xf32>
// CHECK: kiln.transpose %[[R]] perm = [0, 2, 1, 3] : tensor<1x16x4x64xf32>
func.func @rope_before_transpose(%x: tensor<1x16x4x64xf32>, %cos: tensor<16x64xf32>, %sin: tensor<16x64xf32>) -> tensor<1x4x16x64xf32> {
  %t = kiln.transpose %x perm = [0, 2, 1, 3] : tensor<1x16x4x64xf32>
  %r = kiln.rope %t, %cos, %sin : tensor<1x4x16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
  return %r : tensor<1x4x16x64xf32>
}

// -----

// Look-alikes that stay: the transposed heads are also used elsewhere (the
// transpose would have to stay), the tables differ per head (moving them
// would be a real transpose, not a view).
// CHECK-LABEL: func.func @rope_transpose_kept
// CHECK: %[[T:.*]] = kiln.transpose %arg0 perm = [0, 2, 1, 3]
// CHECK: kiln.rope %[[T]], %arg1, %arg1
// CHECK: %[[T2:.*]] = kiln.transpose %arg0 perm = [0, 2, 1, 3]
// CHECK: kiln.rope %[[T2]], %arg2, %arg2
func.func @rope_transpose_kept(%x: tensor<1x16x4x64xf32>, %cos: tensor<16x64xf32>, %perhead: tensor<4x16x64xf32>) -> (tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>) {
  %t = kiln.transpose %x perm = [0, 2, 1, 3] : tensor<1x16x4x64xf32>
  %r = kiln.rope %t, %cos, %cos : tensor<1x4x16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
  %t2 = kiln.transpose %x perm = [0, 2, 1, 3] : tensor<1x16x4x64xf32>
  %r2 = kiln.rope %t2, %perhead, %perhead : tensor<1x4x16x64xf32>, tensor<4x16x64xf32>, tensor<4x16x64xf32>
  return %r, %t, %r2 : tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>, tensor<1x4x16x64xf32>
}

// -----

// DeepSeek-V3's interleaved RoPE as Hugging Face writes it: the head
// de-interleaved into even/odd features e and o, rotated as
// Concat(e * c - o * s, o * c + e * s) with the half tables c and s, after
// an unrotated part (the MLA query's). That is rotate-half RoPE of
// Concat(e, o) with Concat(c, c) and Concat(s, s).
// CHECK-LABEL: func.func @rope_halves
// CHECK-DAG: %[[X:.*]] = kiln.concat %[[E:.*]], %[[O:.*]] axis = -1 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
// CHECK-DAG: %[[C:.*]] = kiln.concat %arg2, %arg2 axis = -1
// CHECK-DAG: %[[S:.*]] = kiln.concat %arg3, %arg3 axis = -1
// CHECK: %[[R:.*]] = kiln.rope %[[X]], %[[C]], %[[S]] : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>
// CHECK: kiln.concat %arg1, %[[R]] axis = -1 : tensor<1x2x3x5xf32>, tensor<1x2x3x4xf32>
func.func @rope_halves(%x: tensor<1x2x3x4xf32>, %pass: tensor<1x2x3x5xf32>, %c: tensor<1x1x3x2xf32>, %s: tensor<1x1x3x2xf32>) -> tensor<1x2x3x9xf32> {
  %e = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 2, 3, 4] steps = [1, 1, 1, 2] : tensor<1x2x3x4xf32>
  %o = kiln.slice %x starts = [0, 0, 0, 1] ends = [1, 2, 3, 4] steps = [1, 1, 1, 2] : tensor<1x2x3x4xf32>
  %ec = kiln.binary mul %e, %c : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %os = kiln.binary mul %o, %s : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %first = kiln.binary sub %ec, %os : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  %oc = kiln.binary mul %c, %o : tensor<1x1x3x2xf32>, tensor<1x2x3x2xf32>
  %es = kiln.binary mul %e, %s : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %second = kiln.binary add %es, %oc : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  %y = kiln.concat %pass, %first, %second axis = -1 : tensor<1x2x3x5xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  return %y : tensor<1x2x3x9xf32>
}

// -----

// A look-alike: the second half multiplies o by s (not c): not a rotation.
// CHECK-LABEL: func.func @rope_halves_wrong_table
// CHECK-NOT: kiln.rope
func.func @rope_halves_wrong_table(%e: tensor<1x2x3x2xf32>, %o: tensor<1x2x3x2xf32>, %c: tensor<1x1x3x2xf32>, %s: tensor<1x1x3x2xf32>) -> tensor<1x2x3x4xf32> {
  %ec = kiln.binary mul %e, %c : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %os = kiln.binary mul %o, %s : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %first = kiln.binary sub %ec, %os : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  %os2 = kiln.binary mul %o, %s : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %es = kiln.binary mul %e, %s : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>
  %second = kiln.binary add %os2, %es : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  %y = kiln.concat %first, %second axis = -1 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

// Dynamic batch and positions: the halves are sliced whole on the dynamic
// dims ([0, max)), and the tables' position dim is x's (one symbol: the
// inputs name it alike). Heads just transposed out of the projection
// layout: the RoPE runs before the transpose, its tables reshaped with
// the position dim as the target's -1.
// CHECK-LABEL: func.func @rope_dynamic
// CHECK: %[[T:.*]] = arith.constant dense<[1, -1, 1, 64]> : tensor<4xi64>
// CHECK: %[[C:.*]] = kiln.reshape %arg1 shape %[[T]] : tensor<4xi64> : tensor<1x1x?x64xf32> -> tensor<1x?x1x64xf32>
// CHECK: %[[R:.*]] = kiln.rope %arg0, %[[C]], %{{.*}} : tensor<?x?x8x64xf32>, tensor<1x?x1x64xf32>, tensor<1x?x1x64xf32>
// CHECK-NEXT: %[[O:.*]] = kiln.transpose %[[R]] perm = [0, 2, 1, 3] : tensor<?x?x8x64xf32>
// CHECK-NEXT: return %[[O]]
func.func @rope_dynamic(%p: tensor<?x?x8x64xf32> {kiln.dim_names = ["b", "s", "h", "d"]},
                        %cos: tensor<1x1x?x64xf32> {kiln.dim_names = ["one", "one", "s", "d"]},
                        %sin: tensor<1x1x?x64xf32> {kiln.dim_names = ["one", "one", "s", "d"]})
    -> tensor<?x8x?x64xf32> {
  %x = kiln.transpose %p perm = [0, 2, 1, 3] : tensor<?x?x8x64xf32>
  %lo = kiln.slice %x starts = [0, 0, 0, 0] ends = [9223372036854775807, 9223372036854775807, 9223372036854775807, 32] steps = [1, 1, 1, 1] : tensor<?x8x?x64xf32>
  %hi = kiln.slice %x starts = [0, 0, 0, 32] ends = [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps = [1, 1, 1, 1] : tensor<?x8x?x64xf32>
  %neg = kiln.unary neg %hi : tensor<?x8x?x32xf32>
  %rot = kiln.concat %neg, %lo axis = -1 : tensor<?x8x?x32xf32>, tensor<?x8x?x32xf32>
  %a = kiln.binary mul %x, %cos : tensor<?x8x?x64xf32>, tensor<1x1x?x64xf32>
  %b = kiln.binary mul %rot, %sin : tensor<?x8x?x64xf32>, tensor<1x1x?x64xf32>
  %y = kiln.binary add %a, %b : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
  return %y : tensor<?x8x?x64xf32>
}
