// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-matmul-microkernel{vector-bits=512 registers=32 k-block=64 panel-cols=64},cse))' | FileCheck %s
// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-matmul-microkernel{vector-bits=256 registers=16},cse))' | FileCheck %s --check-prefix=AVX2

// 64 x 128 x 96 with 16-lane vectors: NR = 32, MR = 8, two 64-column panels
// (workgroups); B packed per 64-deep K block; 8 x 2 accumulators.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<512xf32>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<4096xf32>
// CHECK: scf.parallel (%[[P:.*]]) = (%c0) to (%c2) step (%c1)
// CHECK: scf.for %{{.*}} = %c0 to %c96 step %c64
// CHECK: vector.store {{.*}} : memref<4096xf32>, vector<16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-16: vector.fma
// AVX2-LABEL: func.func @matmul
// AVX2: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-12: vector.fma
func.func @matmul(%a: memref<64x96xf32>, %b: memref<96x128xf32>, %c: memref<64x128xf32>) {
  linalg.matmul ins(%a, %b : memref<64x96xf32>, memref<96x128xf32>) outs(%c : memref<64x128xf32>)
  return
}

// -----

// A single row (decode): B is read in place, not packed; A needs no packing.
// CHECK-LABEL: func.func @row
// CHECK-NOT: memref.alloca
// CHECK: scf.parallel
// CHECK: vector.load %arg1
// CHECK: vector.fma
func.func @row(%a: memref<1x64xf32>, %b: memref<64x64xf32>, %c: memref<1x64xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x64xf32>) outs(%c : memref<1x64xf32>)
  return
}

// -----

// Leftover columns (N mod NR) stay a linalg.matmul on subviews; batches
// loop over rank-reduced 2-D slices.
// CHECK-LABEL: func.func @batch_ragged
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c3) step (%c1)
// CHECK: memref.subview %arg0[%[[I]], 0, 0] [1, 17, 8] [1, 1, 1]
// CHECK: scf.for
// CHECK: linalg.matmul ins({{.*}} : memref<17x8xf32, strided<[8, 1], offset: ?>>, memref<8x8xf32, strided<[40, 1], offset: ?>>)
func.func @batch_ragged(%a: memref<3x17x8xf32>, %b: memref<3x8x40xf32>, %c: memref<3x17x40xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x17x8xf32>, memref<3x8x40xf32>) outs(%c : memref<3x17x40xf32>)
  return
}

// -----

// Not f32, or on tensors: left alone.
// CHECK-LABEL: func.func @not_f32
// CHECK: linalg.matmul
func.func @not_f32(%a: memref<16x16xf64>, %b: memref<16x16xf64>, %c: memref<16x16xf64>) {
  linalg.matmul ins(%a, %b : memref<16x16xf64>, memref<16x16xf64>) outs(%c : memref<16x16xf64>)
  return
}
