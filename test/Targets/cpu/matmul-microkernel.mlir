// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-matmul-microkernel{vector-bits=512 registers=32 k-block=64 panel-cols=64},cse))' | FileCheck %s
// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-matmul-microkernel{vector-bits=256 registers=16},cse))' | FileCheck %s --check-prefix=AVX2

// 64 x 128 x 96 with 16-lane vectors: NR = 32, MR = 8, two 64-column panels,
// each split in two row groups of 4 row blocks (4 workgroups: two would
// leave no slack to balance threads); B packed per 64-deep K block; 8 x 2
// accumulators.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<512xf32>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<4096xf32>
// CHECK: scf.parallel (%[[W:.*]]) = (%c0) to (%c4) step (%c1)
// CHECK: %[[G:.*]] = arith.divui %[[W]], %c2
// CHECK: arith.remui %[[W]], %c2
// CHECK: scf.for %{{.*}} = %c0 to %c96 step %c64
// CHECK: vector.store {{.*}} : memref<4096xf32>, vector<16xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
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

// Leftover columns (N mod NR) stay loops (a linalg.generic) on subviews;
// the batch is the grid, each entry a rank-reduced 2-D slice.
// CHECK-LABEL: func.func @batch_ragged
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c3) step (%c1)
// CHECK: memref.subview %arg0[%[[I]], 0, 0] [1, 17, 8] [1, 1, 1]
// CHECK: scf.for
// CHECK: linalg.generic {{.*}} ins({{.*}} : memref<17x8xf32, strided<[8, 1], offset: ?>>, memref<8x8xf32, strided<[40, 1], offset: ?>>)
func.func @batch_ragged(%a: memref<3x17x8xf32>, %b: memref<3x8x40xf32>, %c: memref<3x17x40xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x17x8xf32>, memref<3x8x40xf32>) outs(%c : memref<3x17x40xf32>)
  return
}

// -----

// What exporters write for x @ W.T on a [1, S, D] activation: a contraction
// generic with the rows spread over two dims and B given as [N, K]. The rows
// collapse into one, and B is packed from its transpose (scalar gathers).
// CHECK-LABEL: func.func @generic_transposed
// CHECK: memref.collapse_shape %arg0 {{\[}}[0, 1], [2]] : memref<1x64x32xf32> into memref<64x32xf32>
// CHECK: memref.collapse_shape %arg2 {{\[}}[0, 1], [2]] : memref<1x64x64xf32> into memref<64x64xf32>
// CHECK: scf.parallel
// CHECK: memref.load %arg1[{{.*}}] : memref<64x32xf32>
// CHECK: vector.fma
#lhs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#rhs = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @generic_transposed(%a: memref<1x64x32xf32>, %b: memref<64x32xf32>, %c: memref<1x64x64xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<1x64x32xf32>, memref<64x32xf32>) outs(%c : memref<1x64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A contraction whose body is not multiply-add is not a matmul.
// CHECK-LABEL: func.func @max_plus
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @max_plus(%a: memref<64x32xf32>, %b: memref<32x64xf32>, %c: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x32xf32>, memref<32x64xf32>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.addf %x, %y : f32
    %s = arith.maximumf %acc, %p : f32
    linalg.yield %s : f32
  }
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

// -----

// Rows whose outer dims cannot join them (a session cache viewed as
// [B, 1, T, C]: B's stride is the cache's, not T x C): the outer dims are
// the grid and B, without batch dims, is read by every entry.
// CHECK-LABEL: func.func @cache_rows
// CHECK: memref.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : memref<?x1x?x128xf32, strided<[140800, 140800, 128, 1]>> into memref<?x?x128xf32, strided<[140800, 128, 1]>>
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: memref.subview %{{.*}}[%[[I]], 0, 0] [1, %{{.*}}, 128] [1, 1, 1]
// CHECK: vector.fma
// CHECK-NOT: linalg.generic
func.func @cache_rows(%a: memref<?x1x?x128xf32, strided<[140800, 140800, 128, 1]>>, %b: memref<128x64xf32>,
                      %c: memref<?x1x?x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x1x?x128xf32, strided<[140800, 140800, 128, 1]>>, memref<128x64xf32>)
      outs(%c : memref<?x1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
