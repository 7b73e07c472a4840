// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-flash-attention{vector-bits=512 registers=32},cse))' | FileCheck %s

// Causal GQA, 4 query heads on 2 K/V heads, 100 positions: 200 rows per K/V
// head in blocks of 64 (4 row blocks x 2 heads = 8 workgroups), keys in
// blocks of 64 (one full block and a tail of 36). The per-thread tiles are
// 64 x 32 (Q), 64 x 64 (scores), 64 x 32 (accumulator): nothing is 100 x 100.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-NOT: kiln.attention
// CHECK: linalg.transpose ins(%arg1 : tensor<1x2x100x32xf32>) {{.*}} permutation = [0, 1, 3, 2]
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x100x32xf32>
// CHECK: bufferization.to_buffer %arg0 read_only
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK-NOT: memref<{{.*}}100x100
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// The causal limit bounds the key blocks: min(1, ceil(end / 64)) full
// blocks, then the tail if the limit reaches past 64.
// CHECK: arith.minsi
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
// CHECK: vector.fma
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp
// CHECK: vector.reduction <add>
// CHECK: arith.cmpi sgt
// CHECK: scf.if
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal_gqa(%q: tensor<1x4x100x32xf32>, %k: tensor<1x2x100x32xf32>, %v: tensor<1x2x100x32xf32>) -> tensor<1x4x100x32xf32> {
  %o = kiln.attention %q, %k, %v {causal} : tensor<1x4x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32> -> tensor<1x4x100x32xf32>
  return %o : tensor<1x4x100x32xf32>
}

// -----

// A decode step with a cache: the past is concatenated in front (and
// returned as the present), the 4 grouped query rows of a K/V head are one
// block, so each K/V head is read once for its 4 query heads; so few rows
// take dot products on K as stored (no transposed copy of the cache).
// CHECK-LABEL: func.func @decode
// CHECK-NOT: linalg.transpose
// CHECK: %[[K:.*]] = tensor.concat dim(2) %arg3, %arg1
// CHECK: %[[V:.*]] = tensor.concat dim(2) %arg4, %arg2
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<4x64xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c2) step (%c1)
// CHECK: return %{{.*}}, %[[K]], %[[V]]
func.func @decode(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                  %pk: tensor<1x2x255x64xf32>, %pv: tensor<1x2x255x64xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>) {
  %o:3 = kiln.attention %q, %k, %v past(%pk, %pv : tensor<1x2x255x64xf32>, tensor<1x2x255x64xf32>) {causal}
      : tensor<1x8x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>
      -> tensor<1x8x1x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
  return %o#0, %o#1, %o#2 : tensor<1x8x1x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
}

// -----

// Narrow floats keep the reference lowering (kiln-to-linalg) for now.
// CHECK-LABEL: func.func @half
// CHECK: kiln.attention
func.func @half(%q: tensor<1x2x8x16xf16>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x16xf16>) -> tensor<1x2x8x16xf16> {
  %o = kiln.attention %q, %k, %v : tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16> -> tensor<1x2x8x16xf16>
  return %o : tensor<1x2x8x16xf16>
}

// -----

// Decode against 1024 cached keys on 2 K/V heads: too few row blocks to fill
// the threads, so the keys split 4 ways (16 blocks of 64, 4 per split):
// 8 workgroups write partial (acc, max, sum) rows to an arena buffer
// (2 heads x 4 splits x 4 rows x (64 + 2)), then 2 combine them.
// CHECK-LABEL: func.func @decode_split
// CHECK: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2112xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c2) step (%c1)
// CHECK: memref.load %[[P]]
// CHECK: math.exp
func.func @decode_split(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                        %pk: tensor<1x2x1023x64xf32>, %pv: tensor<1x2x1023x64xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>) {
  %o:3 = kiln.attention %q, %k, %v past(%pk, %pv : tensor<1x2x1023x64xf32>, tensor<1x2x1023x64xf32>) {causal}
      : tensor<1x8x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>
      -> tensor<1x8x1x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>
  return %o#0, %o#1, %o#2 : tensor<1x8x1x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>
}

// -----

// Q, K, V transposed to heads first from the projections' [B, S, H, D]
// layout and the output transposed back: the kernel reads Q and V through
// memref.transpose views of the untransposed buffers, makes Kᵀ in one copy
// straight from [B, L, H, D] (permutation [0, 2, 3, 1]) and writes the
// output in [B, S, H, D] through a transposed view: no other copies.
// CHECK-LABEL: func.func @bshd_layout
// CHECK-NOT: kiln.attention
// CHECK: linalg.transpose ins(%arg1 : tensor<1x100x2x32xf32>) {{.*}} permutation = [0, 2, 3, 1]
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x100x4x32xf32>
// CHECK: memref.transpose %{{.*}} (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<1x100x4x32xf32> to memref<1x4x100x32xf32, strided<[12800, 32, 128, 1]>>
// CHECK: memref.transpose %{{.*}} (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<1x100x2x32xf32> to memref<1x2x100x32xf32, strided<[6400, 32, 64, 1]>>
// CHECK: memref.transpose %[[OUT]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x100x4x32xf32>
// CHECK: return %[[T]]
func.func @bshd_layout(%q: tensor<1x100x4x32xf32>, %k: tensor<1x100x2x32xf32>, %v: tensor<1x100x2x32xf32>) -> tensor<1x100x4x32xf32> {
  %qt = kiln.transpose %q perm = [0, 2, 1, 3] : tensor<1x100x4x32xf32>
  %kt = kiln.transpose %k perm = [0, 2, 1, 3] : tensor<1x100x2x32xf32>
  %vt = kiln.transpose %v perm = [0, 2, 1, 3] : tensor<1x100x2x32xf32>
  %o = kiln.attention %qt, %kt, %vt {causal} : tensor<1x4x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32> -> tensor<1x4x100x32xf32>
  %ot = kiln.transpose %o perm = [0, 2, 1, 3] : tensor<1x4x100x32xf32>
  return %ot : tensor<1x100x4x32xf32>
}

// -----

// MLA's absorbed decode: K = [latent cache, RoPE key] on the features and
// V the latent. The scores are dot products over each part read in place
// (two buffers); the concatenated K (a copy of the cache) is never made.
// CHECK-LABEL: func.func @split_key_parts
// CHECK-NOT: tensor.concat
// CHECK-NOT: linalg.transpose
// CHECK-DAG: bufferization.to_buffer %arg1 read_only : tensor<1x1x300x128xf32>
// CHECK-DAG: bufferization.to_buffer %arg2 read_only : tensor<1x1x300x16xf32>
// CHECK: scf.parallel
// CHECK: vector.load {{.*}} : memref<1x1x300x128xf32>, vector<16xf32>
// CHECK: vector.load {{.*}} : memref<1x1x300x16xf32>, vector<16xf32>
func.func @split_key_parts(%q: tensor<1x8x1x144xf32>, %latent: tensor<1x1x300x128xf32>, %pe: tensor<1x1x300x16xf32>) -> tensor<1x8x1x128xf32> {
  %k = kiln.concat %latent, %pe axis = 3 : tensor<1x1x300x128xf32>, tensor<1x1x300x16xf32>
  %o = kiln.attention %q, %k, %latent : tensor<1x8x1x144xf32>, tensor<1x1x300x144xf32>, tensor<1x1x300x128xf32> -> tensor<1x8x1x128xf32>
  return %o : tensor<1x8x1x128xf32>
}

// -----

// Dynamic batch and lengths: one kernel for every size. The counts are
// read off the operands per run (memref.dim), with the sizes the kernel
// takes to agree asserted (the CPU target hoists these into the plan's
// shape checks); the grid is batch x K/V heads x row blocks x key splits,
// split only when that leaves threads idle (a decode step); K is read in
// place (no Kᵀ copy: the score product packs its blocks transposed); the
// keys past the last full block go through zero-padded tiles with their
// columns hidden, the mask read under a lane mask there.
// CHECK-LABEL: func.func @dynamic_lengths
// CHECK-NOT: kiln.attention
// CHECK-NOT: linalg.transpose
// CHECK: memref.dim
// CHECK: cf.assert {{.*}}, "{{.*}} needs sizes {0} and {1} to be equal"
// CHECK: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x4x?x32xf32>
// CHECK: arith.select
// CHECK: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: scf.if
// CHECK: linalg.copy
// CHECK: vector.maskedload
// CHECK: scf.parallel
// CHECK: bufferization.to_tensor {{.*}} : memref<?x4x?x32xf32>
func.func @dynamic_lengths(%q: tensor<?x4x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>,
                           %mask: tensor<?x1x?x?xf32>) -> tensor<?x4x?x32xf32> {
  %o = kiln.attention %q, %k, %v mask(%mask : tensor<?x1x?x?xf32>) {causal} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
  return %o : tensor<?x4x?x32xf32>
}

// -----

// Static Q, K, V with a mask of dynamic dims (an imported Attention's
// attn_mask): the mask's dims are read as the scores', asserted per run
// (a broadcast the kernel would read past).
// CHECK-LABEL: func.func @static_qkv_dynamic_mask
// CHECK-COUNT-4: cf.assert {{.*}}, "{{.*}} needs sizes {0} and {1} to be equal"
// CHECK: scf.parallel
func.func @static_qkv_dynamic_mask(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>,
                                   %mask: tensor<?x?x?x?xf32>) -> tensor<1x8x16x64xf32> {
  %o = kiln.attention %q, %k, %v mask(%mask : tensor<?x?x?x?xf32>) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
