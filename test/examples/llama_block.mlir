// A Llama-style decoder block written directly in kiln IR (hidden 64, 4 query
// heads sharing 2 K/V heads of 16, SwiGLU MLP of 172), with a dynamic
// sequence length. scripts/setup.sh runs the graph pipeline on it.
//
// RUN: kiln-opt %s '--kiln-graph-pipeline=input-shapes=hidden=1x16x64,cos=16x16,sin=16x16' | FileCheck %s
// RUN: kiln-opt %s --kiln-graph-pipeline | FileCheck %s --check-prefix=DYN

// CHECK-LABEL: func.func @llama_block
// CHECK-SAME: tensor<1x16x64xf32> {kiln.name = "hidden"}
// CHECK-SAME: -> tensor<1x16x64xf32>
// CHECK: kiln.rope {{.*}} : tensor<1x16x4x16xf32>, tensor<1x16x1x16xf32>, tensor<1x16x1x16xf32>
// CHECK: kiln.attention {{.*}} {causal} : tensor<1x4x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32> -> tensor<1x4x16x16xf32>
// CHECK: kiln.gated_mlp {{.*}} : tensor<1x16x64xf32>, tensor<64x172xf32>
// DYN-LABEL: func.func @llama_block
// DYN-SAME: -> tensor<1x?x64xf32>
func.func @llama_block(%hidden: tensor<1x?x64xf32> {kiln.name = "hidden"},
                       %cos: tensor<?x16xf32> {kiln.name = "cos"},
                       %sin: tensor<?x16xf32> {kiln.name = "sin"}) -> tensor<1x?x64xf32> {
  %norm1_w = kiln.weight "attn_norm" from "llama_block.bin" at 0 : tensor<64xf32>
  %wq = kiln.weight "wq" from "llama_block.bin" at 256 : tensor<64x64xf32>
  %wk = kiln.weight "wk" from "llama_block.bin" at 16640 : tensor<64x32xf32>
  %wv = kiln.weight "wv" from "llama_block.bin" at 24832 : tensor<64x32xf32>
  %wo = kiln.weight "wo" from "llama_block.bin" at 33024 : tensor<64x64xf32>
  %norm2_w = kiln.weight "mlp_norm" from "llama_block.bin" at 49408 : tensor<64xf32>
  %wg = kiln.weight "w_gate" from "llama_block.bin" at 49664 : tensor<64x172xf32>
  %wu = kiln.weight "w_up" from "llama_block.bin" at 93696 : tensor<64x172xf32>
  %wd = kiln.weight "w_down" from "llama_block.bin" at 137728 : tensor<172x64xf32>

  %x = kiln.rms_norm %hidden, %norm1_w : tensor<1x?x64xf32>, tensor<64xf32>
  %q = kiln.matmul %x, %wq : tensor<1x?x64xf32>, tensor<64x64xf32>
  %k = kiln.matmul %x, %wk : tensor<1x?x64xf32>, tensor<64x32xf32>
  %v = kiln.matmul %x, %wv : tensor<1x?x64xf32>, tensor<64x32xf32>
  %q4 = kiln.reshape %q : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  %k4 = kiln.reshape %k : tensor<1x?x32xf32> -> tensor<1x?x2x16xf32>
  %v4 = kiln.reshape %v : tensor<1x?x32xf32> -> tensor<1x?x2x16xf32>
  %qh = kiln.transpose %q4 perm = [0, 2, 1, 3] : tensor<1x?x4x16xf32>
  %kh = kiln.transpose %k4 perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  %vh = kiln.transpose %v4 perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  %qr = kiln.rope %qh, %cos, %sin : tensor<1x4x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %kr = kiln.rope %kh, %cos, %sin : tensor<1x2x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %o = kiln.attention %qr, %kr, %vh {causal} : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x4x?x16xf32>
  %ot = kiln.transpose %o perm = [0, 2, 1, 3] : tensor<1x4x?x16xf32>
  %o2 = kiln.reshape %ot : tensor<1x?x4x16xf32> -> tensor<1x?x64xf32>
  %attn = kiln.matmul %o2, %wo : tensor<1x?x64xf32>, tensor<64x64xf32>
  %h1 = kiln.binary add %hidden, %attn : tensor<1x?x64xf32>, tensor<1x?x64xf32>

  %y = kiln.rms_norm %h1, %norm2_w : tensor<1x?x64xf32>, tensor<64xf32>
  %mlp = kiln.gated_mlp %y, %wg, %wu, %wd : tensor<1x?x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>, tensor<172x64xf32>
  %out = kiln.binary add %h1, %mlp : tensor<1x?x64xf32>, tensor<1x?x64xf32>
  return %out : tensor<1x?x64xf32>
}
