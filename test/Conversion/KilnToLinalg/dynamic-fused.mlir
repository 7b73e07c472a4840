// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// The fused ops with dynamic batch and lengths (exports with dynamic axes)
// lower to the reference composition with their sizes read per run: the
// grouped-query rows ([B, Hkv, G * Sq, D]) and the scores sized by
// tensor.dim, the causal offset L - Sq computed once.
// CHECK-LABEL: func.func @attention_dynamic
// CHECK-DAG: tensor.dim %arg0, %c0
// CHECK-DAG: tensor.dim %arg0, %c2
// CHECK-DAG: tensor.dim %arg1, %c2
// CHECK: tensor.expand_shape %arg0 {{.*}} output_shape [%{{.*}}, 2, 4, %{{.*}}, 16] : tensor<?x8x?x16xf32> into tensor<?x2x4x?x16xf32>
// CHECK: arith.subi
// CHECK: linalg.generic
// CHECK-NOT: kiln.attention
func.func @attention_dynamic(%q: tensor<?x8x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>,
                             %mask: tensor<?x1x?x?xf32>) -> tensor<?x8x?x16xf32> {
  %o = kiln.attention %q, %k, %v mask(%mask : tensor<?x1x?x?xf32>) {causal} : tensor<?x8x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x8x?x16xf32>
  return %o : tensor<?x8x?x16xf32>
}

// -----

// RoPE with dynamic rows: the halves sliced whole on the dynamic dims.
// CHECK-LABEL: func.func @rope_dynamic
// CHECK-NOT: kiln.rope
// CHECK: linalg.generic
func.func @rope_dynamic(%x: tensor<?x?x8x64xf32>, %c: tensor<1x?x1x64xf32>) -> tensor<?x?x8x64xf32> {
  %r = kiln.rope %x, %c, %c : tensor<?x?x8x64xf32>, tensor<1x?x1x64xf32>, tensor<1x?x1x64xf32>
  return %r : tensor<?x?x8x64xf32>
}
