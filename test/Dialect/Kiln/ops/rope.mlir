// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @llama_rope
func.func @llama_rope(%q: tensor<1x8x16x64xf32>, %cos: tensor<1x1x16x64xf32>, %sin: tensor<1x1x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // CHECK: kiln.rope %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
  %0 = kiln.rope %q, %cos, %sin : tensor<1x8x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
  return %0 : tensor<1x8x16x64xf32>
}

// Partial rotary, GPT-J pairs, cos/sin per position only.
// CHECK-LABEL: func.func @partial_interleaved
func.func @partial_interleaved(%k: tensor<2x4x16x64xf32>, %cos: tensor<16x32xf32>, %sin: tensor<16x32xf32>) -> tensor<2x4x16x64xf32> {
  // CHECK: kiln.rope %{{.*}}, %{{.*}}, %{{.*}} interleaved : tensor<2x4x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>
  %0 = kiln.rope %k, %cos, %sin interleaved : tensor<2x4x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>
  return %0 : tensor<2x4x16x64xf32>
}
