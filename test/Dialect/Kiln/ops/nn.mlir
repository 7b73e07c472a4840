// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @conv_pool
func.func @conv_pool(%x: tensor<1x4x32x32xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>, %wt: tensor<4x3x3x3xf32>)
    -> (tensor<1x8x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x11x11xf32>, tensor<1x6x65x65xf32>) {
  // Grouped (2 groups), stride 2, pad 1: 32 -> 16.
  // CHECK: kiln.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : tensor<1x4x32x32xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>
  // CHECK: kiln.pool max %{{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
  %1 = kiln.pool max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x32x32xf32>
  // ceil_mode: (32 - 3) / 3 = 9.67 -> 10 windows + 1.
  // CHECK: kiln.pool avg %{{.*}} {ceil_mode, count_include_pad
  %2 = kiln.pool avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode, count_include_pad} : tensor<1x4x32x32xf32>
  // 2 * (32 - 1) + 3 = 65; 2 groups of 3 output channels.
  // CHECK: kiln.conv_transpose
  %3 = kiln.conv_transpose %x, %wt {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 2 : i64} : tensor<1x4x32x32xf32>, tensor<4x3x3x3xf32>
  return %0, %1, %2, %3 : tensor<1x8x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x11x11xf32>, tensor<1x6x65x65xf32>
}

// CHECK-LABEL: func.func @pad_resize
func.func @pad_resize(%x: tensor<1x3x8x8xf32>, %v: tensor<f32>) -> (tensor<1x3x10x12xf32>, tensor<1x3x6x8xf32>, tensor<1x3x16x16xf32>) {
  // CHECK: kiln.pad %{{.*}} value %{{.*}} : tensor<f32> pads = [0, 0, 1, 2, 0, 0, 1, 2] : tensor<1x3x8x8xf32>
  %0 = kiln.pad %x value %v : tensor<f32> pads = [0, 0, 1, 2, 0, 0, 1, 2] : tensor<1x3x8x8xf32>
  // Negative pads crop.
  // CHECK: kiln.pad %{{.*}} pads = [0, 0, -1, 0, 0, 0, -1, 0] {mode = #kiln<pad_mode reflect>}
  %1 = kiln.pad %x pads = [0, 0, -1, 0, 0, 0, -1, 0] {mode = #kiln<pad_mode reflect>} : tensor<1x3x8x8xf32>
  // CHECK: kiln.resize %{{.*}} {mode = #kiln<resize_mode linear>, scales = array<f32: 1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00>} : tensor<1x3x8x8xf32> -> tensor<1x3x16x16xf32>
  %2 = kiln.resize %x {mode = #kiln<resize_mode linear>, scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : tensor<1x3x8x8xf32> -> tensor<1x3x16x16xf32>
  return %0, %1, %2 : tensor<1x3x10x12xf32>, tensor<1x3x6x8xf32>, tensor<1x3x16x16xf32>
}
