// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// Convolution: the input is padded, then one generic over
// (n, m, oh, ow, c, kh, kw) reads x at (n, m floordiv 2 * 1 + c, oh*2 + kh, ow*2 + kw*2)
// for 2 groups with strides 2 and dilation (1, 2).
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 floordiv 2 + d4, d2 * 2 + d5, d3 * 2 + d6 * 2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @conv(%x: tensor<1x2x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x4x3xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 2>, group = 2 : i64} : tensor<1x2x8x8xf32>, tensor<4x1x3x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}

// Max pooling pads with -inf and reduces with maximumf over the window.
// CHECK-LABEL: func.func @max_pool
// CHECK: tensor.pad
// CHECK: tensor.yield %cst
// CHECK: linalg.generic {indexing_maps = [#[[WIN]], #{{.*}}, #{{.*}}]
// CHECK: arith.maximumf
func.func @max_pool(%x: tensor<1x3x5x5xf32>) -> tensor<1x3x3x3xf32> {
  %0 = kiln.pool max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x3x3xf32>
}

// uint8 max pooling: padded with 0 (the smallest uint8) and compared
// unsigned, on signless values through casts the LLVM conversion drops.
// CHECK-LABEL: func.func @max_pool_u8
// CHECK: %[[Z:.*]] = builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
// CHECK: tensor.pad
// CHECK: tensor.yield %[[Z]] : ui8
// CHECK: linalg.generic
// CHECK: arith.maxui %{{.*}}, %{{.*}} : i8
func.func @max_pool_u8(%x: tensor<1x1x4x4xui8>) -> tensor<1x1x3x3xui8> {
  %0 = kiln.pool max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x1x4x4xui8>
  return %0 : tensor<1x1x3x3xui8>
}
