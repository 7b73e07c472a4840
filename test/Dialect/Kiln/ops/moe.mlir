// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt --mlir-print-op-generic %s | kiln-opt | FileCheck %s

// Mixtral: softmax router, top-2 of 8, renormalized.
// CHECK-LABEL: func.func @mixtral
func.func @mixtral(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf32>, %u: tensor<8x64x128xf32>, %d: tensor<8x128x64xf32>) -> tensor<16x64xf32> {
  // CHECK: kiln.moe %{{.*}} router(%{{.*}} : tensor<64x8xf32>) experts(%{{.*}}, %{{.*}}, %{{.*}} : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {normalize, top_k = 2 : i64} : tensor<16x64xf32>
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %u, %d : tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32>) {top_k = 2 : i64, normalize} : tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// DeepSeek-V3: sigmoid scores, correction bias, 4 groups keep 2, scaling, shared expert.
// CHECK-LABEL: func.func @deepseek_v3
func.func @deepseek_v3(%x: tensor<1x16x64xf32>, %r: tensor<64x16xf32>, %g: tensor<16x64x32xf32>, %u: tensor<16x64x32xf32>, %d: tensor<16x32x64xf32>,
                       %b: tensor<16xf32>, %sg: tensor<64x64xf32>, %su: tensor<64x64xf32>, %sd: tensor<64x64xf32>) -> tensor<1x16x64xf32> {
  // CHECK: kiln.moe %{{.*}} router({{.*}}) experts({{.*}}) bias(%{{.*}} : tensor<16xf32>) shared(%{{.*}}, %{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>)
  // CHECK-SAME: n_group = 4 : i64, normalize, routed_scaling_factor = 2.500000e+00 : f32, scoring = #kiln<score_func sigmoid>, top_k = 4 : i64, topk_group = 2 : i64
  %0 = kiln.moe %x router(%r : tensor<64x16xf32>) experts(%g, %u, %d : tensor<16x64x32xf32>, tensor<16x64x32xf32>, tensor<16x32x64xf32>)
      bias(%b : tensor<16xf32>) shared(%sg, %su, %sd : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>)
      {top_k = 4 : i64, scoring = #kiln<score_func sigmoid>, normalize, n_group = 4 : i64, topk_group = 2 : i64, routed_scaling_factor = 2.5 : f32} : tensor<1x16x64xf32>
  return %0 : tensor<1x16x64xf32>
}

// Qwen-MoE: the shared expert is scaled by its own sigmoid gate.
// CHECK-LABEL: func.func @qwen_moe
func.func @qwen_moe(%x: tensor<4x64xf32>, %r: tensor<64x4xf32>, %g: tensor<4x64x32xf32>, %u: tensor<4x64x32xf32>, %d: tensor<4x32x64xf32>,
                    %sg: tensor<64x96xf32>, %su: tensor<64x96xf32>, %sd: tensor<96x64xf32>, %seg: tensor<64x1xf32>) -> tensor<4x64xf32> {
  // CHECK: shared_expert_gate(%{{.*}} : tensor<64x1xf32>)
  %0 = kiln.moe %x router(%r : tensor<64x4xf32>) experts(%g, %u, %d : tensor<4x64x32xf32>, tensor<4x64x32xf32>, tensor<4x32x64xf32>)
      shared(%sg, %su, %sd : tensor<64x96xf32>, tensor<64x96xf32>, tensor<96x64xf32>) shared_expert_gate(%seg : tensor<64x1xf32>) {top_k = 2 : i64} : tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// Half expert weights under an f32 hidden state (a half checkpoint whose
// activations the CPU computes in f32).
// CHECK-LABEL: func.func @half_experts
// CHECK: kiln.moe %{{.*}} experts(%{{.*}}, %{{.*}}, %{{.*}} : tensor<8x64x128xf16>, tensor<8x64x128xf16>, tensor<8x128x64xf16>)
func.func @half_experts(%x: tensor<16x64xf32>, %r: tensor<64x8xf32>, %g: tensor<8x64x128xf16>, %u: tensor<8x64x128xf16>, %d: tensor<8x128x64xf16>) -> tensor<16x64xf32> {
  %0 = kiln.moe %x router(%r : tensor<64x8xf32>) experts(%g, %u, %d : tensor<8x64x128xf16>, tensor<8x64x128xf16>, tensor<8x128x64xf16>) {top_k = 2 : i64} : tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}
