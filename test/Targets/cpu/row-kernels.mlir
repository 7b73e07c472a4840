// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-row-kernels{vector-bits=512},cse))' | FileCheck %s

// RMS norm over 37 rows of 512: blocks of 8 rows (4096 elements) per
// workgroup, 5 workgroups; per row a vector<16xf32> sum of squares, one
// reduction, 1 / sqrt(mean + eps), then x * inv * weight.
// CHECK-LABEL: func.func @rms_norm
// CHECK-NOT: kiln.rms_norm
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x37x512xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c5) step (%c1)
// CHECK: scf.for
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK: math.sqrt
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @rms_norm(%x: tensor<1x37x512xf32>, %w: tensor<512xf32>) -> tensor<1x37x512xf32> {
  %y = kiln.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<1x37x512xf32>, tensor<512xf32>
  return %y : tensor<1x37x512xf32>
}

// -----

// Rotate-half RoPE on 8 heads x 33 positions of 64 features, cos/sin per
// position: one pass per row, the halves a vector<16xf32> at a time, the
// cos/sin row the row's position (row mod 33).
// CHECK-LABEL: func.func @rope
// CHECK-NOT: kiln.rope
// CHECK: scf.parallel
// CHECK: arith.remui %{{.*}}, %c33
// CHECK: vector.load {{.*}} : memref<2112xf32>, vector<16xf32>
// CHECK: arith.subf {{.*}} : vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
func.func @rope(%x: tensor<1x8x33x64xf32>, %c: tensor<33x64xf32>, %s: tensor<33x64xf32>) -> tensor<1x8x33x64xf32> {
  %y = kiln.rope %x, %c, %s : tensor<1x8x33x64xf32>, tensor<33x64xf32>, tensor<33x64xf32>
  return %y : tensor<1x8x33x64xf32>
}

// -----

// Not for these kernels (the decompositions handle them): interleaved
// RoPE, a weight that broadcasts over the normalized dims.
// CHECK-LABEL: func.func @kept
// CHECK: kiln.rope {{.*}} interleaved
// CHECK: kiln.rms_norm
// CHECK-NOT: kiln.rms_norm
func.func @kept(%x: tensor<2x4x8xf32>, %c: tensor<4x8xf32>, %w: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %r = kiln.rope %x, %c, %c interleaved : tensor<2x4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
  %n = kiln.rms_norm %x, %w {axis = 1 : i64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %r, %n : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// Dynamic rows (batch x sequence of an export with dynamic axes): the same
// kernels with the row count and the grid read per run. RoPE's tables
// indexed by position have that dim dynamic too: read as x's, asserted
// equal when the plan runs (cos and sin each).
// CHECK-LABEL: func.func @dynamic_rows
// CHECK-NOT: kiln.rms_norm
// CHECK: memref.dim
// CHECK: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: vector.fma
// CHECK-NOT: kiln.rope
// CHECK: memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x?x2x8xf32>
// CHECK-COUNT-2: cf.assert {{.*}}, "{{.*}} needs sizes {0} and {1} to be equal"
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1)
func.func @dynamic_rows(%d: tensor<?x8xf32>, %w: tensor<8xf32>, %x: tensor<?x?x2x8xf32>,
                        %c: tensor<?x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x?x2x8xf32>) {
  %m = kiln.rms_norm %d, %w : tensor<?x8xf32>, tensor<8xf32>
  %r = kiln.rope %x, %c, %c : tensor<?x?x2x8xf32>, tensor<?x1x8xf32>, tensor<?x1x8xf32>
  return %m, %r : tensor<?x8xf32>, tensor<?x?x2x8xf32>
}
