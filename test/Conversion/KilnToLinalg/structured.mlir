// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// Affine maps print at the top of the module.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[QK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[KEEP:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[GK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>

// CHECK-LABEL: func.func @matmul_2d
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[Z]] : tensor<2x4xf32>)
func.func @matmul_2d(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = kiln.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32>
  return %0 : tensor<2x4xf32>
}

// A half-precision product accumulates in f32 and is rounded once.
// CHECK-LABEL: func.func @matmul_f16
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[P:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<2x3xf16>, tensor<3x4xf16>) outs(%[[Z]] : tensor<2x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<2x4xf32>) outs(%{{.*}} : tensor<2x4xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_f16(%a: tensor<2x3xf16>, %b: tensor<3x4xf16>) -> tensor<2x4xf16> {
  %0 = kiln.matmul %a, %b : tensor<2x3xf16>, tensor<3x4xf16>
  return %0 : tensor<2x4xf16>
}

// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.batch_matmul
func.func @batch_matmul(%a: tensor<8x2x3xf32>, %b: tensor<8x3x4xf32>) -> tensor<8x2x4xf32> {
  %0 = kiln.matmul %a, %b : tensor<8x2x3xf32>, tensor<8x3x4xf32>
  return %0 : tensor<8x2x4xf32>
}

// Batch broadcasting (a weight shared over [batch, seq]) is one contraction
// generic: loops (d0, m, k, n), the weight read at (k, n), N innermost (a
// row of the weight accumulates into a row of the result); the sums may be
// reassociated (vectorized).
// CHECK-LABEL: func.func @shared_weight
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0 : tensor<?x8x16xf32>
// CHECK: tensor.empty(%[[B]]) : tensor<?x8x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,contract>
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract>
func.func @shared_weight(%x: tensor<?x8x16xf32>, %w: tensor<16x4xf32>) -> tensor<?x8x4xf32> {
  %0 = kiln.matmul %x, %w : tensor<?x8x16xf32>, tensor<16x4xf32>
  return %0 : tensor<?x8x4xf32>
}

// Q Kᵀ with dynamic lengths: the key is read through the transpose (loops
// (b, h, m, n, k), K at (b, h, n, k): dot products along contiguous
// features), and the transpose is never built.
// CHECK-LABEL: func.func @scores
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[QK]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>)
func.func @scores(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>) -> tensor<?x8x?x?xf32> {
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<?x8x?x64xf32>
  %0 = kiln.matmul %q, %kt : tensor<?x8x?x64xf32>, tensor<?x8x64x?xf32>
  return %0 : tensor<?x8x?x?xf32>
}

// Grouped-query attention with dynamic lengths: K and V repeated for the
// query heads (Reshape, Expand, Reshape: transformers' repeat_kv) are read
// where they lie, head h at h / 4: no copy of the cache per query head.
// CHECK-LABEL: func.func @grouped_scores
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[GK]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[GK]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %arg2 : tensor<?x8x?x?xf32>, tensor<?x2x?x64xf32>)
func.func @grouped_scores(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %split = arith.constant dense<[0, 2, 1, -1, 64]> : tensor<5xi64>
  %to = arith.constant dense<[1, 2, 4, 1, 64]> : tensor<5xi64>
  %merge = arith.constant dense<[0, 8, -1, 64]> : tensor<4xi64>
  %k5 = kiln.reshape %k shape %split : tensor<5xi64> : tensor<?x2x?x64xf32> -> tensor<?x2x1x?x64xf32>
  %ke = kiln.expand %k5 shape %to : tensor<5xi64> : tensor<?x2x1x?x64xf32> -> tensor<?x2x4x?x64xf32>
  %kr = kiln.reshape %ke shape %merge : tensor<4xi64> : tensor<?x2x4x?x64xf32> -> tensor<?x8x?x64xf32>
  %kt = kiln.transpose %kr perm = [0, 1, 3, 2] : tensor<?x8x?x64xf32>
  %s = kiln.matmul %q, %kt : tensor<?x8x?x64xf32>, tensor<?x8x64x?xf32>
  %v5 = kiln.reshape %v shape %split : tensor<5xi64> : tensor<?x2x?x64xf32> -> tensor<?x2x1x?x64xf32>
  %ve = kiln.expand %v5 shape %to : tensor<5xi64> : tensor<?x2x1x?x64xf32> -> tensor<?x2x4x?x64xf32>
  %vr = kiln.reshape %ve shape %merge : tensor<4xi64> : tensor<?x2x4x?x64xf32> -> tensor<?x8x?x64xf32>
  %o = kiln.matmul %s, %vr : tensor<?x8x?x?xf32>, tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// keepdims keeps the reduced dimension as index 0 of the output map; mean
// divides by the reduced count.
// CHECK-LABEL: func.func @mean
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KEEP]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: arith.divf
func.func @mean(%x: tensor<2x6xf32>) -> tensor<2x1xf32> {
  %0 = kiln.reduce mean %x axes = [1] keepdims : tensor<2x6xf32>
  return %0 : tensor<2x1xf32>
}

// Softmax: max, subtract, exp, sum, divide.
// CHECK-LABEL: func.func @softmax
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = kiln.softmax %x axis = -1 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @movement
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK: tensor.reshape %{{.*}}(%{{.*}}) : (tensor<4x2x3xf32>, tensor<2xindex>) -> tensor<8x3xf32>
func.func @movement(%x: tensor<2x3x4xf32>) -> tensor<8x3xf32> {
  %0 = kiln.transpose %x perm = [2, 0, 1] : tensor<2x3x4xf32>
  %1 = kiln.reshape %0 : tensor<4x2x3xf32> -> tensor<8x3xf32>
  return %1 : tensor<8x3xf32>
}

// -----

// A residual add of a matmul (x + A·B, x shaped like the product): the
// product accumulates into x, no zero fill and no add pass. A bias that
// broadcasts is a separate add.
// CHECK-LABEL: func.func @residual_accumulate
// CHECK-NOT: linalg.fill
// CHECK: %[[MM:.*]] = linalg.matmul ins(%arg1, %arg2 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%arg0 : tensor<4x16xf32>)
// CHECK-NEXT: return %[[MM]]
func.func @residual_accumulate(%x: tensor<4x16xf32>, %a: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %p = kiln.matmul %a, %w : tensor<4x8xf32>, tensor<8x16xf32>
  %y = kiln.binary add %x, %p : tensor<4x16xf32>, tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @bias_broadcast
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK: linalg.generic
func.func @bias_broadcast(%b: tensor<16xf32>, %a: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %p = kiln.matmul %a, %w : tensor<4x8xf32>, tensor<8x16xf32>
  %y = kiln.binary add %p, %b : tensor<4x16xf32>, tensor<16xf32>
  return %y : tensor<4x16xf32>
}
