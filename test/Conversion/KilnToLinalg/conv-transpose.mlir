// RUN: kiln-opt %s -split-input-file --kiln-to-linalg | FileCheck %s

// Stride 2: the input is spread into zeros (a strided insert_slice), padded
// by the kernel span (2), then convolved with the kernel flipped
// (2 - d4 in the input index) and the weight read as [C, M, K].
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d2 + -d4 + 2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4)>
// CHECK-LABEL: func.func @stride2
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 0] [1, 2, 4] [1, 1, 2] : tensor<1x2x4xf32> into tensor<1x2x7xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 2] high[0, 0, 2]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
func.func @stride2(%x: tensor<1x2x4xf32>, %w: tensor<2x3x3xf32>) -> tensor<1x3x9xf32> {
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, output_padding = array<i64: 0>} : tensor<1x2x4xf32>, tensor<2x3x3xf32>
  return %0 : tensor<1x3x9xf32>
}

// -----

// Groups are not lowered yet: the op stays (strict mode would name it).
// CHECK-LABEL: func.func @grouped
// CHECK: kiln.conv_transpose
func.func @grouped(%x: tensor<1x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x6x17x17xf32> {
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 2 : i64} : tensor<1x4x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x6x17x17xf32>
}
