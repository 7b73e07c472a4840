// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @llama_mlp
func.func @llama_mlp(%x: tensor<1x16x64xf32>, %g: tensor<64x172xf32>, %u: tensor<64x172xf32>, %d: tensor<172x64xf32>) -> (tensor<1x16x64xf32>, tensor<1x16x64xf32>) {
  // CHECK: kiln.gated_mlp %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x16x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>, tensor<172x64xf32>
  %0 = kiln.gated_mlp %x, %g, %u, %d : tensor<1x16x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>, tensor<172x64xf32>
  // CHECK: kiln.gated_mlp {{.*}} {activation = #kiln<activation gelu_tanh>}
  %1 = kiln.gated_mlp %x, %g, %u, %d {activation = #kiln<activation gelu_tanh>} : tensor<1x16x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>, tensor<172x64xf32>
  return %0, %1 : tensor<1x16x64xf32>, tensor<1x16x64xf32>
}
