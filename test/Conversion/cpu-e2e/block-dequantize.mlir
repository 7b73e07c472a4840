// The reference lowering of kiln.block_dequantize (kiln-to-linalg), run:
// 4-bit codes packed two rows per byte, 8-bit codes with zero points, FP8
// codes with a block scale, and a product reading a dequantized weight. Numbers computed by hand.
// REQUIRES: mlir-runner
// RUN: kiln-opt %s --kiln-cpu-lowering-pipeline | %mlir_runner | FileCheck %s

func.func @main() {
  // 4-bit, K = 3, groups of 2: codes row0 = [9, 0], row1 = [15, 8] (the
  // high nibbles of byte row 0: 0xF9 = -7, 0x80 = -128), row2 = [1, 12].
  %q4 = arith.constant dense<[[-7, -128], [1, 12]]> : tensor<2x2xi8>
  %s4 = arith.constant dense<[[0.5, 2.0], [0.25, 1.0]]> : tensor<2x2xf32>
  // (code - 8) * scale
  %w4 = kiln.block_dequantize %q4, %s4 bits = 4 group_size = 2 : tensor<2x2xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
  %u4 = tensor.cast %w4 : tensor<3x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u4) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [3, 2]
  // CHECK-NEXT: {{\[}}[0.5, -16],
  // CHECK-NEXT: [3.5, 0],
  // CHECK-NEXT: [-1.75, 4]]

  // 8-bit with zero points, groups of 1: codes [[130, 0], [255, 100]].
  %q8 = arith.constant dense<[[-126, 0], [-1, 100]]> : tensor<2x2xi8>
  %s8 = arith.constant dense<[[0.5, 1.0], [2.0, 0.25]]> : tensor<2x2xf32>
  %z8 = arith.constant dense<[[128.0, 0.0], [128.0, 100.0]]> : tensor<2x2xf32>
  %w8 = kiln.block_dequantize %q8, %s8 zero_points %z8 bits = 8 group_size = 1 : tensor<2x2xi8>, tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %u8 = tensor.cast %w8 : tensor<2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u8) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [2, 2]
  // CHECK-NEXT: {{\[}}[1, 0],
  // CHECK-NEXT: [254, 0]]

  // FP8 e4m3 codes with one scale per 2 x 2 block: 0x38 = 1, 0xC0 = -2,
  // 0x01 = 2^-9 (subnormal), 0x7E = 448 (the largest), times 0.5.
  %qf = arith.constant dense<[[56, -64], [1, 126]]> : tensor<2x2xi8>
  %sf = arith.constant dense<0.5> : tensor<1x1xf32>
  %wf = kiln.block_dequantize %qf, %sf bits = 8 group_size = 2 float8 : tensor<2x2xi8>, tensor<1x1xf32> -> tensor<2x2xf32>
  %uf = tensor.cast %wf : tensor<2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%uf) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [2, 2]
  // CHECK-NEXT: {{\[}}[0.5, -1],
  // CHECK-NEXT: [0.000976562, 224]]

  // [1, 2, 3] x w4 = [0.5 + 7 - 5.25, -16 + 0 + 12]
  %x = arith.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %w4b = kiln.block_dequantize %q4, %s4 bits = 4 group_size = 2 : tensor<2x2xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
  %y = kiln.matmul %x, %w4b : tensor<1x3xf32>, tensor<3x2xf32>
  %uy = tensor.cast %y : tensor<1x2xf32> to tensor<*xf32>
  call @printMemrefF32(%uy) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [1, 2]
  // CHECK-NEXT: {{\[}}[2.25, -4]]
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
