// RUN: kiln-opt %s '-pass-pipeline=builtin.module(func.func(kiln-quantize-weights{bits=4 group-size=128 report}))' -verify-diagnostics | FileCheck %s

// A weight read directly, through a transpose, and through a widening cast
// of f16 is quantized; the activation is not.
// CHECK-LABEL: func.func @products
func.func @products(%x: tensor<1x256xf32>, %h: tensor<2x256xf16>) -> (tensor<1x64xf32>, tensor<1x96xf32>, tensor<2x64xf16>) {
  // CHECK: %[[W:.*]] = kiln.weight "wq"
  %w = kiln.weight "wq" from "m.bin" at 0 : tensor<256x64xf32>
  // CHECK: %[[Q:.*]], %[[S:.*]] = kiln.block_quantize %[[W]] bits = 4 group_size = 128 : tensor<256x64xf32> -> tensor<128x64xi8>, tensor<2x64xf32>
  // CHECK: %[[D:.*]] = kiln.block_dequantize %[[Q]], %[[S]] bits = 4 group_size = 128 : tensor<128x64xi8>, tensor<2x64xf32> -> tensor<256x64xf32>
  // CHECK: kiln.matmul %{{.*}}, %[[D]] : tensor<1x256xf32>, tensor<256x64xf32>
  // expected-remark @+1 {{weight 'wq' (256 x 64) quantized to int4, groups of 128 rows}}
  %y = kiln.matmul %x, %w : tensor<1x256xf32>, tensor<256x64xf32>
  // CHECK: %[[T:.*]] = kiln.transpose
  // CHECK: kiln.block_quantize %[[T]] bits = 4
  %wt = kiln.weight "wo" from "m.bin" at 65536 : tensor<96x256xf32>
  %t = kiln.transpose %wt perm = [1, 0] : tensor<96x256xf32>
  // expected-remark @+1 {{weight 'wo' (256 x 96) quantized to int4}}
  %z = kiln.matmul %x, %t : tensor<1x256xf32>, tensor<256x96xf32>
  // Half activations: the product runs in f32 and is rounded back.
  // CHECK: kiln.cast %{{.*}} : tensor<2x256xf16> to tensor<2x256xf32>
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x256xf32>, tensor<256x64xf32>
  // CHECK: kiln.cast %{{.*}} : tensor<2x64xf32> to tensor<2x64xf16>
  %wh = kiln.weight "wh" from "m.bin" at 163840 : tensor<256x64xf16>
  // expected-remark @+1 {{weight 'wh' (256 x 64) quantized to int4}}
  %p = kiln.matmul %h, %wh : tensor<2x256xf16>, tensor<256x64xf16>
  return %y, %z, %p : tensor<1x64xf32>, tensor<1x96xf32>, tensor<2x64xf16>
}

// A gated MLP over three weights becomes its products, each quantized.
// CHECK-LABEL: func.func @mlp
// CHECK-NOT: kiln.gated_mlp
// CHECK-COUNT-3: kiln.block_dequantize
func.func @mlp(%x: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  %g = kiln.weight "gate" from "m.bin" at 0 : tensor<64x128xf32>
  %u = kiln.weight "up" from "m.bin" at 32768 : tensor<64x128xf32>
  %d = kiln.weight "down" from "m.bin" at 65536 : tensor<128x64xf32>
  // expected-remark @+3 {{weight 'gate' (64 x 128) quantized to int4}}
  // expected-remark @+2 {{weight 'up' (64 x 128) quantized to int4}}
  // expected-remark @+1 {{weight 'down' (128 x 64) quantized to int4}}
  %y = kiln.gated_mlp %x, %g, %u, %d : tensor<1x4x64xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<128x64xf32>
  return %y : tensor<1x4x64xf32>
}

// Left alone: a small weight (said), and a product of two activations.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: kiln.block_quantize
func.func @left_alone(%x: tensor<1x32xf32>, %a: tensor<32x64xf32>) -> (tensor<1x16xf32>, tensor<1x64xf32>) {
  %w = kiln.weight "tiny" from "m.bin" at 0 : tensor<32x16xf32>
  // expected-remark @+1 {{weight 'tiny' not quantized: 512 elements, fewer than 4096}}
  %y = kiln.matmul %x, %w : tensor<1x32xf32>, tensor<32x16xf32>
  %z = kiln.matmul %x, %a : tensor<1x32xf32>, tensor<32x64xf32>
  return %y, %z : tensor<1x16xf32>, tensor<1x64xf32>
}

// RUN: kiln-opt %s '-pass-pipeline=builtin.module(func.func(kiln-quantize-weights{bits=8 float8}))' | FileCheck %s --check-prefix=FP8
// FP8-LABEL: func.func @products
// FP8: kiln.block_quantize %{{.*}} bits = 8 group_size = 128 float8 : tensor<256x64xf32> -> tensor<256x64xi8>, tensor<2x1xf32>
// FP8: kiln.block_dequantize %{{.*}}, %{{.*}} bits = 8 group_size = 128 float8 : tensor<256x64xi8>, tensor<2x1xf32> -> tensor<256x64xf32>
