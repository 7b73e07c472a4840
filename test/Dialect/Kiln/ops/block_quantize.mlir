// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @int4
func.func @int4(%w: tensor<999x64xf32>) -> tensor<999x64xf32> {
  // 999 rows of 4-bit codes: 500 bytes per column; 8 groups of 128.
  // CHECK: kiln.block_quantize %{{.*}} bits = 4 group_size = 128 : tensor<999x64xf32> -> tensor<500x64xi8>, tensor<8x64xf32>
  %q, %s = kiln.block_quantize %w bits = 4 group_size = 128 : tensor<999x64xf32> -> tensor<500x64xi8>, tensor<8x64xf32>
  // CHECK: kiln.block_dequantize %{{.*}}, %{{.*}} bits = 4 group_size = 128 : tensor<500x64xi8>, tensor<8x64xf32> -> tensor<999x64xf32>
  %d = kiln.block_dequantize %q, %s bits = 4 group_size = 128 : tensor<500x64xi8>, tensor<8x64xf32> -> tensor<999x64xf32>
  return %d : tensor<999x64xf32>
}

// CHECK-LABEL: func.func @int8_zero_points
func.func @int8_zero_points(%q: tensor<256x32xi8>, %s: tensor<2x32xf32>, %z: tensor<2x32xf32>) -> tensor<256x32xf32> {
  // CHECK: kiln.block_dequantize %{{.*}}, %{{.*}} zero_points %{{.*}} bits = 8 group_size = 128 : tensor<256x32xi8>, tensor<2x32xf32>, tensor<2x32xf32> -> tensor<256x32xf32>
  %d = kiln.block_dequantize %q, %s zero_points %z bits = 8 group_size = 128 : tensor<256x32xi8>, tensor<2x32xf32>, tensor<2x32xf32> -> tensor<256x32xf32>
  return %d : tensor<256x32xf32>
}

// CHECK-LABEL: func.func @float8
func.func @float8(%w: tensor<256x200xf32>) -> tensor<256x200xf32> {
  // One scale per 128 x 128 block: 2 x 2 of them.
  // CHECK: kiln.block_quantize %{{.*}} bits = 8 group_size = 128 float8 : tensor<256x200xf32> -> tensor<256x200xi8>, tensor<2x2xf32>
  %q, %s = kiln.block_quantize %w bits = 8 group_size = 128 float8 : tensor<256x200xf32> -> tensor<256x200xi8>, tensor<2x2xf32>
  // CHECK: kiln.block_dequantize %{{.*}}, %{{.*}} bits = 8 group_size = 128 float8 : tensor<256x200xi8>, tensor<2x2xf32> -> tensor<256x200xf32>
  %d = kiln.block_dequantize %q, %s bits = 8 group_size = 128 float8 : tensor<256x200xi8>, tensor<2x2xf32> -> tensor<256x200xf32>
  return %d : tensor<256x200xf32>
}
