// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// Two experts, dense-masked (torch's loop over experts), summed from zeros:
// raised to kiln.moe with the experts' weights stacked by concat.
// CHECK-LABEL: func.func @dense_two_experts
// CHECK: %[[G:.*]] = kiln.concat {{.*}} axis = 0 : tensor<1x8x16xf32>, tensor<1x8x16xf32>
// CHECK: %[[M:.*]] = kiln.moe %arg0 router(%arg1 : tensor<8x2xf32>) experts(%[[G]], %{{.*}}, %{{.*}} : tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x16x8xf32>) {top_k = 1 : i64} : tensor<4x8xf32>
// CHECK-NEXT: return %[[M]]
func.func @dense_two_experts(%x: tensor<4x8xf32>, %r: tensor<8x2xf32>,
                             %g0: tensor<8x16xf32>, %u0: tensor<8x16xf32>, %d0: tensor<16x8xf32>,
                             %g1: tensor<8x16xf32>, %u1: tensor<8x16xf32>, %d1: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %e0 = arith.constant dense<0> : tensor<i64>
  %e1 = arith.constant dense<1> : tensor<i64>
  %zero = arith.constant dense<0.0> : tensor<4x8xf32>
  %logits = kiln.matmul %x, %r : tensor<4x8xf32>, tensor<8x2xf32>
  %p = kiln.softmax %logits axis = -1 : tensor<4x2xf32>
  %w, %i = kiln.topk %p k = 1 axis = -1 : tensor<4x2xf32>
  %eq0 = kiln.compare eq %i, %e0 : tensor<4x1xi64>, tensor<i64>
  %m0 = kiln.cast %eq0 : tensor<4x1xi1> to tensor<4x1xf32>
  %wm0 = kiln.binary mul %w, %m0 : tensor<4x1xf32>, tensor<4x1xf32>
  %we0 = kiln.reduce sum %wm0 axes = [-1] keepdims : tensor<4x1xf32>
  %a0 = kiln.matmul %x, %g0 : tensor<4x8xf32>, tensor<8x16xf32>
  %s0 = kiln.unary sigmoid %a0 : tensor<4x16xf32>
  %silu0 = kiln.binary mul %a0, %s0 : tensor<4x16xf32>, tensor<4x16xf32>
  %b0 = kiln.matmul %x, %u0 : tensor<4x8xf32>, tensor<8x16xf32>
  %h0 = kiln.binary mul %silu0, %b0 : tensor<4x16xf32>, tensor<4x16xf32>
  %y0 = kiln.matmul %h0, %d0 : tensor<4x16xf32>, tensor<16x8xf32>
  %t0 = kiln.binary mul %we0, %y0 : tensor<4x1xf32>, tensor<4x8xf32>
  %acc0 = kiln.binary add %zero, %t0 : tensor<4x8xf32>, tensor<4x8xf32>
  %eq1 = kiln.compare eq %i, %e1 : tensor<4x1xi64>, tensor<i64>
  %m1 = kiln.cast %eq1 : tensor<4x1xi1> to tensor<4x1xf32>
  %wm1 = kiln.binary mul %m1, %w : tensor<4x1xf32>, tensor<4x1xf32>
  %we1 = kiln.reduce sum %wm1 axes = [-1] keepdims : tensor<4x1xf32>
  %a1 = kiln.matmul %x, %g1 : tensor<4x8xf32>, tensor<8x16xf32>
  %s1 = kiln.unary sigmoid %a1 : tensor<4x16xf32>
  %silu1 = kiln.binary mul %s1, %a1 : tensor<4x16xf32>, tensor<4x16xf32>
  %b1 = kiln.matmul %x, %u1 : tensor<4x8xf32>, tensor<8x16xf32>
  %h1 = kiln.binary mul %b1, %silu1 : tensor<4x16xf32>, tensor<4x16xf32>
  %y1 = kiln.matmul %h1, %d1 : tensor<4x16xf32>, tensor<16x8xf32>
  %t1 = kiln.binary mul %y1, %we1 : tensor<4x8xf32>, tensor<4x1xf32>
  %acc1 = kiln.binary add %acc0, %t1 : tensor<4x8xf32>, tensor<4x8xf32>
  return %acc1 : tensor<4x8xf32>
}

// -----

// Look-alike: expert 1's mask selects the weights of another TopK (not the
// routing of the same tokens), so this is not one MoE layer.
// CHECK-LABEL: func.func @weights_from_other_topk
// CHECK-NOT: kiln.moe
func.func @weights_from_other_topk(%x: tensor<4x8xf32>, %r: tensor<8x2xf32>, %other: tensor<4x2xf32>,
                                   %g0: tensor<8x16xf32>, %u0: tensor<8x16xf32>, %d0: tensor<16x8xf32>,
                                   %g1: tensor<8x16xf32>, %u1: tensor<8x16xf32>, %d1: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %e0 = arith.constant dense<0> : tensor<i64>
  %e1 = arith.constant dense<1> : tensor<i64>
  %logits = kiln.matmul %x, %r : tensor<4x8xf32>, tensor<8x2xf32>
  %p = kiln.softmax %logits axis = -1 : tensor<4x2xf32>
  %w, %i = kiln.topk %p k = 1 axis = -1 : tensor<4x2xf32>
  %w2, %i2 = kiln.topk %other k = 1 axis = -1 : tensor<4x2xf32>
  %eq0 = kiln.compare eq %i, %e0 : tensor<4x1xi64>, tensor<i64>
  %m0 = kiln.cast %eq0 : tensor<4x1xi1> to tensor<4x1xf32>
  %wm0 = kiln.binary mul %w, %m0 : tensor<4x1xf32>, tensor<4x1xf32>
  %we0 = kiln.reduce sum %wm0 axes = [-1] keepdims : tensor<4x1xf32>
  %a0 = kiln.matmul %x, %g0 : tensor<4x8xf32>, tensor<8x16xf32>
  %s0 = kiln.unary sigmoid %a0 : tensor<4x16xf32>
  %silu0 = kiln.binary mul %a0, %s0 : tensor<4x16xf32>, tensor<4x16xf32>
  %b0 = kiln.matmul %x, %u0 : tensor<4x8xf32>, tensor<8x16xf32>
  %h0 = kiln.binary mul %silu0, %b0 : tensor<4x16xf32>, tensor<4x16xf32>
  %y0 = kiln.matmul %h0, %d0 : tensor<4x16xf32>, tensor<16x8xf32>
  %t0 = kiln.binary mul %we0, %y0 : tensor<4x1xf32>, tensor<4x8xf32>
  %eq1 = kiln.compare eq %i, %e1 : tensor<4x1xi64>, tensor<i64>
  %m1 = kiln.cast %eq1 : tensor<4x1xi1> to tensor<4x1xf32>
  %wm1 = kiln.binary mul %m1, %w2 : tensor<4x1xf32>, tensor<4x1xf32>
  %we1 = kiln.reduce sum %wm1 axes = [-1] keepdims : tensor<4x1xf32>
  %a1 = kiln.matmul %x, %g1 : tensor<4x8xf32>, tensor<8x16xf32>
  %s1 = kiln.unary sigmoid %a1 : tensor<4x16xf32>
  %silu1 = kiln.binary mul %s1, %a1 : tensor<4x16xf32>, tensor<4x16xf32>
  %b1 = kiln.matmul %x, %u1 : tensor<4x8xf32>, tensor<8x16xf32>
  %h1 = kiln.binary mul %b1, %silu1 : tensor<4x16xf32>, tensor<4x16xf32>
  %y1 = kiln.matmul %h1, %d1 : tensor<4x16xf32>, tensor<16x8xf32>
  %t1 = kiln.binary mul %y1, %we1 : tensor<4x8xf32>, tensor<4x1xf32>
  %acc = kiln.binary add %t0, %t1 : tensor<4x8xf32>, tensor<4x8xf32>
  return %acc : tensor<4x8xf32>
}
