// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @bits(%w: tensor<256x32xf32>) {
  // expected-error @+1 {{'kiln.block_quantize' op bits must be 4 or 8, got 3}}
  %q, %s = kiln.block_quantize %w bits = 3 group_size = 128 : tensor<256x32xf32> -> tensor<96x32xi8>, tensor<2x32xf32>
  return
}

// -----

func.func @rank(%w: tensor<2x256x32xf32>) {
  // expected-error @+1 {{'kiln.block_quantize' op the weight must be a 2-D [K, N] tensor of static shape, got 'tensor<2x256x32xf32>'}}
  %q, %s = kiln.block_quantize %w bits = 8 group_size = 128 : tensor<2x256x32xf32> -> tensor<256x32xi8>, tensor<2x32xf32>
  return
}

// -----

func.func @data_rows(%w: tensor<255x32xf32>) {
  // expected-error @+1 {{'kiln.block_quantize' op data must be [128, 32] (255 rows of 4-bit codes), got 'tensor<127x32xi8>'}}
  %q, %s = kiln.block_quantize %w bits = 4 group_size = 128 : tensor<255x32xf32> -> tensor<127x32xi8>, tensor<2x32xf32>
  return
}

// -----

func.func @scales(%q: tensor<256x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{'kiln.block_dequantize' op scales must be [2, 32] (256 rows in groups of 128), got 'tensor<1x32xf32>'}}
  %d = kiln.block_dequantize %q, %s bits = 8 group_size = 128 : tensor<256x32xi8>, tensor<1x32xf32> -> tensor<256x32xf32>
  return
}

// -----

func.func @zero_points(%q: tensor<256x32xi8>, %s: tensor<2x32xf32>, %z: tensor<1x32xf32>) {
  // expected-error @+1 {{'kiln.block_dequantize' op zero_points must be shaped like scales (2x32), got 'tensor<1x32xf32>'}}
  %d = kiln.block_dequantize %q, %s zero_points %z bits = 8 group_size = 128 : tensor<256x32xi8>, tensor<2x32xf32>, tensor<1x32xf32> -> tensor<256x32xf32>
  return
}

// -----

func.func @columns(%q: tensor<256x16xi8>, %s: tensor<2x32xf32>) {
  // expected-error @+1 {{'kiln.block_dequantize' op data must be [256, 32] (256 rows of 8-bit codes), got 'tensor<256x16xi8>'}}
  %d = kiln.block_dequantize %q, %s bits = 8 group_size = 128 : tensor<256x16xi8>, tensor<2x32xf32> -> tensor<256x32xf32>
  return
}

// -----

func.func @data_type(%q: tensor<256x32xi32>, %s: tensor<2x32xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 8-bit signless integer values}}
  %d = kiln.block_dequantize %q, %s bits = 8 group_size = 128 : tensor<256x32xi32>, tensor<2x32xf32> -> tensor<256x32xf32>
  return
}

// -----

func.func @float8_bits(%w: tensor<256x32xf32>) {
  // expected-error @+1 {{'kiln.block_quantize' op float8 codes are 8 bits, got bits = 4}}
  %q, %s = kiln.block_quantize %w bits = 4 group_size = 128 float8 : tensor<256x32xf32> -> tensor<128x32xi8>, tensor<2x1xf32>
  return
}

// -----

func.func @float8_scales(%q: tensor<256x200xi8>, %s: tensor<2x200xf32>) {
  // expected-error @+1 {{'kiln.block_dequantize' op scales must be [2, 2] (256 x 200 in blocks of 128), got 'tensor<2x200xf32>'}}
  %d = kiln.block_dequantize %q, %s bits = 8 group_size = 128 float8 : tensor<256x200xi8>, tensor<2x200xf32> -> tensor<256x200xf32>
  return
}

// -----

func.func @float8_zero_points(%q: tensor<256x200xi8>, %s: tensor<2x2xf32>, %z: tensor<2x2xf32>) {
  // expected-error @+1 {{'kiln.block_dequantize' op float8 codes take no zero points}}
  %d = kiln.block_dequantize %q, %s zero_points %z bits = 8 group_size = 128 float8 : tensor<256x200xi8>, tensor<2x2xf32>, tensor<2x2xf32> -> tensor<256x200xf32>
  return
}
