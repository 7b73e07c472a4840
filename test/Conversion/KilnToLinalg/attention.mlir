// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// The reference composition: the 8 query heads are rows of their 2 K/V
// heads (Q viewed as [1, 2, 4 * 16, 32]), so Q Kt is a batched matmul with
// K never repeated; causal hides j > i + L - Sq; a row with nothing visible
// gives zeros.
// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @gqa_causal
// CHECK: tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]]
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4]] : tensor<1x2x4x16x32xf32> into tensor<1x2x64x32xf32>
// CHECK: linalg.generic {indexing_maps = [#[[Q]], #[[K]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<1x2x64x16xf32>)
// CHECK: arith.cmpi sle
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x2x64x32xf32>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x4x16x32xf32> into tensor<1x8x16x32xf32>
func.func @gqa_causal(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x8x16x32xf32> {
  %o = kiln.attention %q, %k, %v {causal} : tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x8x16x32xf32>
  return %o : tensor<1x8x16x32xf32>
}

// A KV cache: past and new keys are concatenated (the concat decomposes into
// slices) and returned as present;
// f16 is accumulated in f32 and stored back as f16.
// CHECK-LABEL: func.func @decode_f16
// CHECK: tensor.insert_slice %arg3 into %{{.*}}[0, 0, 0, 0] [1, 4, 7, 16]
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 0, 7, 0] [1, 4, 1, 16]
// CHECK: arith.extf
// CHECK: arith.truncf
func.func @decode_f16(%q: tensor<1x4x1x16xf16>, %k: tensor<1x4x1x16xf16>, %v: tensor<1x4x1x16xf16>,
                      %pk: tensor<1x4x7x16xf16>, %pv: tensor<1x4x7x16xf16>)
    -> (tensor<1x4x1x16xf16>, tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>) {
  %o, %ck, %cv = kiln.attention %q, %k, %v past(%pk, %pv : tensor<1x4x7x16xf16>, tensor<1x4x7x16xf16>) {causal}
      : tensor<1x4x1x16xf16>, tensor<1x4x1x16xf16>, tensor<1x4x1x16xf16> -> tensor<1x4x1x16xf16>, tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>
  return %o, %ck, %cv : tensor<1x4x1x16xf16>, tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>
}
