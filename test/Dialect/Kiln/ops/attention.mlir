// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt --mlir-print-op-generic %s | kiln-opt | FileCheck %s

// Grouped-query attention: 8 query heads share 2 K/V heads.
// CHECK-LABEL: func.func @gqa_causal
func.func @gqa_causal(%q: tensor<1x8x128x64xf32>, %k: tensor<1x2x128x64xf32>, %v: tensor<1x2x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32> -> tensor<1x8x128x64xf32>
  %0 = kiln.attention %q, %k, %v {causal} : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32> -> tensor<1x8x128x64xf32>
  return %0 : tensor<1x8x128x64xf32>
}

// DeepSeek MLA: QK head dim 192 (128 nope + 64 rope), V head dim 128.
// CHECK-LABEL: func.func @mla
func.func @mla(%q: tensor<1x16x32x192xbf16>, %k: tensor<1x16x32x192xbf16>, %v: tensor<1x16x32x128xbf16>, %m: tensor<1x1x32x32xbf16>) -> tensor<1x16x32x128xbf16> {
  // CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x32x32xbf16>) {scale = 0.0721687824 : f32}
  %0 = kiln.attention %q, %k, %v mask(%m : tensor<1x1x32x32xbf16>) {scale = 0.0721687824 : f32} : tensor<1x16x32x192xbf16>, tensor<1x16x32x192xbf16>, tensor<1x16x32x128xbf16> -> tensor<1x16x32x128xbf16>
  return %0 : tensor<1x16x32x128xbf16>
}

// A decode step: one new token appended to a cache of P positions.
// CHECK-LABEL: func.func @decode_with_cache
func.func @decode_with_cache(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                             %pk: tensor<1x2x?x64xf32>, %pv: tensor<1x2x?x64xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>) {
  // CHECK: %{{.*}}, %{{.*}}:2 = kiln.attention %{{.*}}, %{{.*}}, %{{.*}} past(%{{.*}}, %{{.*}} : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>) {causal}
  // CHECK-SAME: -> tensor<1x8x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>
  %o, %nk, %nv = kiln.attention %q, %k, %v past(%pk, %pv : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>) {causal}
      : tensor<1x8x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32> -> tensor<1x8x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>
  return %o, %nk, %nv : tensor<1x8x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>
}

// CHECK-LABEL: func.func @bool_mask
func.func @bool_mask(%q: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xi1>) -> tensor<2x4x8x16xf32> {
  // CHECK: mask(%{{.*}} : tensor<2x1x1x8xi1>)
  %0 = kiln.attention %q, %q, %q mask(%m : tensor<2x1x1x8xi1>) : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}
