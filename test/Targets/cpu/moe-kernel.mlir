// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-moe{vector-bits=512 registers=32},cse))' | FileCheck %s

// 64 tokens, 8 experts of 32 -> 64 -> 32, top-2. Routing stays kiln ops; the
// 128 (token, slot) pairs get rows in their expert's range of a gathered
// buffer (128 rows + 8 x 8 of micro-tile padding + 64 so the last range can
// be read 64 rows long); the products are grids over 8 experts x 1 column
// panel, each the matmul emitter on all of that expert's rows; the slot rows
// are written scaled by the routing weight and summed per token.
// CHECK-LABEL: func.func @mixtral
// CHECK: kiln.matmul
// CHECK: kiln.softmax
// CHECK: %{{.*}}, %[[IDX:.*]] = kiln.topk %{{.*}} k = 2 axis = -1
// CHECK: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128x32xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8xi64>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<128xi64>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<256x32xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<256x64xf32>
// The lists: one workgroup.
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c1) step (%c1)
// The gather: one workgroup per token.
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c64) step (%c1)
// Gate and up, then down: experts x panels, skipping unchosen experts.
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: scf.if
// CHECK: vector.fma
// CHECK: math.exp
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: vector.fma
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c64) step (%c1)
// CHECK: bufferization.to_tensor %[[SLOTS]] restrict writable
// CHECK: kiln.reduce sum %{{.*}} axes = [1] : tensor<64x2x32xf32>
// CHECK-NOT: kiln.moe
func.func @mixtral(%x: tensor<64x32xf32>, %r: tensor<32x8xf32>, %g: tensor<8x32x64xf32>,
                   %u: tensor<8x32x64xf32>, %d: tensor<8x64x32xf32>) -> tensor<64x32xf32> {
  %0 = kiln.moe %x router(%r : tensor<32x8xf32>) experts(%g, %u, %d : tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) {top_k = 2 : i64, normalize} : tensor<64x32xf32>
  return %0 : tensor<64x32xf32>
}

// -----

// A dynamic token count ([batch, seq, H], flattened): the pairs and the
// gathered rows are allocated per run from the tokens' count, the gather
// and scatter grids take it as their size, and each expert's products run
// on exactly its live rows (the emitter's run-time row count: a micro-tile
// per leftover height). The output takes the input's shape back.
// CHECK-LABEL: func.func @mixtral_dynamic
// CHECK: %[[X2:.*]] = kiln.reshape %arg0 : tensor<?x?x32xf32> -> tensor<?x32xf32>
// CHECK: %[[T:.*]] = memref.dim %{{.*}}, %c0 : memref<?x32xf32>
// CHECK: %[[P:.*]] = arith.muli %[[T]], %c2 : index
// CHECK: %[[SLOTS:.*]] = memref.alloc(%[[P]]) {alignment = 64 : i64} : memref<?x32xf32>
// CHECK: %[[ROWS:.*]] = arith.addi %[[P]], %c64 : index
// CHECK: memref.alloc(%[[P]]) {alignment = 64 : i64} : memref<?xi64>
// CHECK: memref.alloc(%[[ROWS]]) {alignment = 64 : i64} : memref<?x32xf32>
// CHECK: memref.alloc(%[[ROWS]]) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%[[T]]) step (%c1)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: memref.dim %{{.*}}, %c0 : memref<?x64xf32, strided<[64, 1], offset: ?>>
// CHECK: scf.index_switch
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%[[T]]) step (%c1)
// CHECK: %[[S:.*]] = bufferization.to_tensor %[[SLOTS]] restrict writable : memref<?x32xf32>
// CHECK: %[[R:.*]] = kiln.reshape %[[S]] : tensor<?x32xf32> -> tensor<?x2x32xf32>
// CHECK: %[[SUM:.*]] = kiln.reduce sum %[[R]] axes = [1] : tensor<?x2x32xf32>
// CHECK: %[[SHAPE:.*]] = kiln.shape %arg0
// CHECK: kiln.reshape %[[SUM]] shape %[[SHAPE]] : tensor<3xi64> : tensor<?x32xf32> -> tensor<?x?x32xf32>
func.func @mixtral_dynamic(%x: tensor<?x?x32xf32>, %r: tensor<32x8xf32>, %g: tensor<8x32x64xf32>,
                           %u: tensor<8x32x64xf32>, %d: tensor<8x64x32xf32>) -> tensor<?x?x32xf32> {
  %0 = kiln.moe %x router(%r : tensor<32x8xf32>) experts(%g, %u, %d : tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) {top_k = 2 : i64, normalize} : tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}
