// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @random_dynamic(%x: tensor<4xf32>) {
  // expected-error @+1 {{without `like` the result shape must be static}}
  %0 = kiln.random uniform {a = 0.0 : f64, b = 1.0 : f64} -> tensor<?xf32>
  return
}

// -----

func.func @random_like_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{result type 'tensor<5xf32>' does not have the shape of `like` ('tensor<4xf32>')}}
  %0 = kiln.random uniform %x : tensor<4xf32> {a = 0.0 : f64, b = 1.0 : f64} -> tensor<5xf32>
  return
}

// -----

func.func @random_empty_range() {
  // expected-error @+1 {{uniform range [2, 1) is empty}}
  %0 = kiln.random uniform {a = 2.0 : f64, b = 1.0 : f64} -> tensor<3xf32>
  return
}

// -----

func.func @rnn_weight_shape(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x16x4xf32>) {
  // expected-error @+1 {{w must be [1, 16, 3], got 'tensor<1x12x3xf32>'}}
  %y, %h, %c = kiln.rnn lstm %x, %w, %r {hidden_size = 4 : i64, activations = ["Sigmoid", "Tanh", "Tanh"]}
      : tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x16x4xf32>
  return
}

// -----

func.func @rnn_activations(%x: tensor<5x2x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>) {
  // expected-error @+1 {{expected 1 activations, got 2}}
  %y, %h = kiln.rnn rnn %x, %w, %r {hidden_size = 4 : i64, activations = ["Tanh", "Tanh"]}
      : tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>
  return
}

// -----

func.func @nms_scores(%boxes: tensor<1x6x4xf32>, %scores: tensor<1x2x5xf32>) {
  // expected-error @+1 {{scores must be [1, classes, 6]}}
  %0 = kiln.non_max_suppression %boxes, %scores : tensor<1x6x4xf32>, tensor<1x2x5xf32>
  return
}

// -----

func.func @unique_axis(%x: tensor<2x6xi64>) {
  // expected-error @+1 {{axis 2 is out of range}}
  %v, %i, %inv, %c = kiln.unique %x {axis = 2 : i64} : tensor<2x6xi64>
  return
}

// -----

func.func @grid_rank(%x: tensor<1x3x10x10xf32>, %g: tensor<1x5x7x3xf32>) {
  // expected-error @+1 {{grid must be [1, out spatial x 2, 2]}}
  %0 = kiln.grid_sample %x, %g : tensor<1x3x10x10xf32>, tensor<1x5x7x3xf32>
  return
}

// -----

func.func @roi_lp(%x: tensor<1x3x10x10xf32>, %r: tensor<4x4xf32>, %b: tensor<4xi64>) {
  // expected-error @+1 {{mode must be max or avg}}
  %0 = kiln.roi_align lp %x, %r, %b {output_height = 2 : i64, output_width = 2 : i64,
      sampling_ratio = 0 : i64, spatial_scale = 1.0 : f32} : tensor<1x3x10x10xf32>, tensor<4x4xf32>, tensor<4xi64>
  return
}

// -----

func.func @det_not_square(%m: tensor<3x4x5xf32>) {
  // expected-error @+1 {{input must be [..., M, M]}}
  %0 = kiln.det %m : tensor<3x4x5xf32>
  return
}

// -----

func.func @dft_components(%x: tensor<2x10x3xf32>) {
  // expected-error @+1 {{must end in a real (1) or complex (2) component}}
  %0 = kiln.dft %x {axis = 1 : i64, length = 10 : i64} : tensor<2x10x3xf32>
  return
}

// -----

func.func @stft_frame(%sig: tensor<1x8x1xf32>, %win: tensor<16xf32>) {
  %step = arith.constant dense<4> : tensor<i64>
  // expected-error @+1 {{frame_length 16 exceeds the signal length 8}}
  %0 = kiln.stft %sig step %step : tensor<i64> window %win : tensor<16xf32> : tensor<1x8x1xf32>
  return
}

// -----

func.func @tfidf_indexes(%x: tensor<6xi64>) {
  // expected-error @+1 {{ngram_indexes has 1 entries for 2 n-grams}}
  %0 = kiln.tfidf %x {mode = #kiln<tfidf_mode tf>, min_gram = 1 : i64, max_gram = 1 : i64,
      max_skip = 0 : i64, ngram_counts = array<i64: 0>, ngram_indexes = array<i64: 0>,
      pool = array<i64: 2, 3>} : tensor<6xi64>
  return
}

// -----

func.func @avg_pool_indices(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{only max pooling returns indices}}
  %v, %i = kiln.pool avg %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, with_indices}
      : tensor<1x1x4x4xf32>
  return
}
