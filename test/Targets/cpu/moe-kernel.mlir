// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-moe{vector-bits=512 registers=32},cse))' | FileCheck %s

// 64 tokens, 8 experts of 32 -> 64 -> 32, top-2: routing stays kiln ops, the
// experts run on a grid of 8 experts x 1 block of (up to) 64 routed tokens, each
// block's three products by the matmul emitter into per-thread tiles; the
// 128 (token, slot) rows are summed per token.
// CHECK-LABEL: func.func @mixtral
// CHECK: kiln.matmul
// CHECK: kiln.softmax
// CHECK: %{{.*}}, %[[IDX:.*]] = kiln.topk %{{.*}} k = 2 axis = -1
// CHECK: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128x32xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8xi64>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: scf.if
// CHECK: vector.fma
// CHECK: math.exp
// CHECK: vector.fma
// CHECK: bufferization.to_tensor %[[SLOTS]] restrict writable
// CHECK: kiln.reduce sum %{{.*}} axes = [1] : tensor<64x2x32xf32>
// CHECK-NOT: kiln.moe
func.func @mixtral(%x: tensor<64x32xf32>, %r: tensor<32x8xf32>, %g: tensor<8x32x64xf32>,
                   %u: tensor<8x32x64xf32>, %d: tensor<8x64x32xf32>) -> tensor<64x32xf32> {
  %0 = kiln.moe %x router(%r : tensor<32x8xf32>) experts(%g, %u, %d : tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) {top_k = 2 : i64, normalize} : tensor<64x32xf32>
  return %0 : tensor<64x32xf32>
}
