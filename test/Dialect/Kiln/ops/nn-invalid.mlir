// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op input has 4 channels but weight expects 3 (3 per group x 1 groups)}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x8x8xf32>, tensor<8x3x3x3xf32>
  return
}

// -----

func.func @conv_attrs(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op for 2 spatial dimensions expected 2 strides, 2 dilations and 4 pads, got 1, 2 and 4}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>
  return
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<3x2x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op input has 4 channels but weight has 3}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32>
  return
}

// -----

func.func @pool_window(%x: tensor<1x3x2x2xf32>) {
  // expected-error @+1 {{'kiln.pool' op the window (3 with dilation) is larger than the padded input (2)}}
  %0 = kiln.pool max %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x2x2xf32>
  return
}

// -----

func.func @pad_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.pad' op pads has 2 entries, expected 4 (begin and end for each of 2 dimensions)}}
  %0 = kiln.pad %x pads = [1, 1] : tensor<2x3xf32>
  return
}

// -----

func.func @resize_rank(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.resize' op result rank 3 differs from input rank 4}}
  %0 = kiln.resize %x : tensor<1x3x8x8xf32> -> tensor<3x16x16xf32>
  return
}

// -----

func.func @resize_mode(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.resize' op unknown coordinate_transformation_mode 'sideways'}}
  %0 = kiln.resize %x {coordinate_transformation_mode = "sideways"} : tensor<1x3x8x8xf32> -> tensor<1x3x16x16xf32>
  return
}

// -----

func.func @avg_pool_int(%x: tensor<1x3x4x4xi8>) {
  // expected-error @+1 {{'kiln.pool' op average and Lp pooling need a floating-point tensor, got 'i8'}}
  %0 = kiln.pool avg %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x4x4xi8>
  return
}

// -----

func.func @pad_runtime_count(%x: tensor<2x3xf32>, %p: tensor<3xi64>) {
  // expected-error @+1 {{'kiln.pad' op runtime pads have 3 entries, expected 4}}
  %0 = kiln.pad %x runtime_pads %p : tensor<3xi64> pads = [] : tensor<2x3xf32>
  return
}
