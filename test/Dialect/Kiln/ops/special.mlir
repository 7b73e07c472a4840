// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Round trip and inferred result types of the special-purpose ops.

// CHECK-LABEL: func.func @random
func.func @random(%x: tensor<?x4xf16>) -> (tensor<2x3xf32>, tensor<?x4xf16>) {
  // CHECK: kiln.random uniform {a = 0.000000e+00 : f64, b = 1.000000e+00 : f64, seed = 3.000000e+00 : f64} -> tensor<2x3xf32>
  %0 = kiln.random uniform {a = 0.0 : f64, b = 1.0 : f64, seed = 3.0 : f64} -> tensor<2x3xf32>
  // CHECK: kiln.random normal %{{.*}} : tensor<?x4xf16> {{.*}} -> tensor<?x4xf16>
  %1 = kiln.random normal %x : tensor<?x4xf16> {a = 0.0 : f64, b = 2.0 : f64} -> tensor<?x4xf16>
  return %0, %1 : tensor<2x3xf32>, tensor<?x4xf16>
}

// CHECK-LABEL: func.func @lstm
func.func @lstm(%x: tensor<5x2x3xf32>, %w: tensor<2x16x3xf32>, %r: tensor<2x16x4xf32>,
                %b: tensor<2x32xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>) {
  // CHECK: kiln.rnn lstm {{.*}} bias {{.*}} : tensor<5x2x3xf32>, tensor<2x16x3xf32>, tensor<2x16x4xf32>
  %y, %h, %c = kiln.rnn lstm %x, %w, %r bias %b : tensor<2x32xf32>
      {hidden_size = 4 : i64, direction = #kiln<direction bidirectional>,
       activations = ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"]}
      : tensor<5x2x3xf32>, tensor<2x16x3xf32>, tensor<2x16x4xf32>
  return %y, %c : tensor<5x2x2x4xf32>, tensor<2x2x4xf32>
}

// CHECK-LABEL: func.func @gru_batch_first
func.func @gru_batch_first(%x: tensor<3x7x5xf32>, %w: tensor<1x18x5xf32>, %r: tensor<1x18x6xf32>)
    -> (tensor<3x7x1x6xf32>, tensor<3x1x6xf32>) {
  %y, %h = kiln.rnn gru %x, %w, %r {hidden_size = 6 : i64, activations = ["Sigmoid", "Tanh"],
      batch_first, linear_before_reset} : tensor<3x7x5xf32>, tensor<1x18x5xf32>, tensor<1x18x6xf32>
  return %y, %h : tensor<3x7x1x6xf32>, tensor<3x1x6xf32>
}

// CHECK-LABEL: func.func @detection
func.func @detection(%boxes: tensor<1x6x4xf32>, %scores: tensor<1x2x6xf32>, %k: tensor<1xi64>,
                     %img: tensor<1x3x10x10xf32>, %rois: tensor<4x4xf32>, %bi: tensor<4xi64>,
                     %grid: tensor<1x5x7x2xf32>)
    -> (tensor<?x3xi64>, tensor<4x3x2x2xf32>, tensor<1x3x5x7xf32>) {
  // CHECK: kiln.non_max_suppression {{.*}} max_output
  %sel = kiln.non_max_suppression %boxes, %scores max_output %k : tensor<1xi64>
      {center_point_box} : tensor<1x6x4xf32>, tensor<1x2x6xf32>
  // CHECK: kiln.roi_align avg
  %pooled = kiln.roi_align avg %img, %rois, %bi {output_height = 2 : i64, output_width = 2 : i64,
      sampling_ratio = 0 : i64, spatial_scale = 1.0 : f32, half_pixel}
      : tensor<1x3x10x10xf32>, tensor<4x4xf32>, tensor<4xi64>
  // CHECK: kiln.grid_sample
  %s = kiln.grid_sample %img, %grid {padding = #kiln<grid_padding border>, align_corners}
      : tensor<1x3x10x10xf32>, tensor<1x5x7x2xf32>
  return %sel, %pooled, %s : tensor<?x3xi64>, tensor<4x3x2x2xf32>, tensor<1x3x5x7xf32>
}

// CHECK-LABEL: func.func @unique
func.func @unique(%x: tensor<2x6xi64>) -> (tensor<2x?xi64>, tensor<6xi64>, tensor<?xi64>) {
  %v, %i, %inv, %c = kiln.unique %x {axis = 1 : i64} : tensor<2x6xi64>
  %fv, %fi, %finv, %fc = kiln.unique %x {sorted = false} : tensor<2x6xi64>
  return %v, %inv, %fv : tensor<2x?xi64>, tensor<6xi64>, tensor<?xi64>
}

// CHECK-LABEL: func.func @signal
func.func @signal(%m: tensor<3x4x4xf64>, %x: tensor<2x10x1xf32>, %sig: tensor<1x128x1xf32>,
                  %step: tensor<i64>, %win: tensor<16xf32>)
    -> (tensor<3xf64>, tensor<2x6x2xf32>, tensor<1x?x9x2xf32>) {
  // CHECK: kiln.det
  %d = kiln.det %m : tensor<3x4x4xf64>
  // CHECK: kiln.dft {{.*}}onesided
  %f = kiln.dft %x {axis = 1 : i64, length = 10 : i64, onesided} : tensor<2x10x1xf32>
  // CHECK: kiln.stft {{.*}} step {{.*}} window
  %s = kiln.stft %sig step %step : tensor<i64> window %win : tensor<16xf32> {onesided}
      : tensor<1x128x1xf32>
  return %d, %f, %s : tensor<3xf64>, tensor<2x6x2xf32>, tensor<1x?x9x2xf32>
}

// CHECK-LABEL: func.func @tfidf
func.func @tfidf(%x: tensor<2x6xi32>) -> tensor<2x7xf32> {
  // CHECK: kiln.tfidf
  %0 = kiln.tfidf %x {mode = #kiln<tfidf_mode tf>, min_gram = 2 : i64, max_gram = 2 : i64,
      max_skip = 0 : i64, ngram_counts = array<i64: 0, 4>,
      ngram_indexes = array<i64: 0, 1, 2, 3, 4, 5, 6>,
      pool = array<i64: 2, 3, 5, 4, 5, 6, 7, 8, 6, 7>} : tensor<2x6xi32>
  return %0 : tensor<2x7xf32>
}

// CHECK-LABEL: func.func @max_pool_indices
func.func @max_pool_indices(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xi64> {
  // CHECK: kiln.pool max {{.*}}with_indices
  %v, %i = kiln.pool max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, with_indices}
      : tensor<1x1x4x4xf32>
  return %i : tensor<1x1x2x2xi64>
}
