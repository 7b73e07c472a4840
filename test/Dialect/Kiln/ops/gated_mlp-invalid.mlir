// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @rows(%x: tensor<16x64xf32>, %g: tensor<32x172xf32>, %d: tensor<172x64xf32>) {
  // expected-error @+1 {{'kiln.gated_mlp' op gate_weight 'tensor<32x172xf32>' and up_weight 'tensor<32x172xf32>' must have 64 rows (the input features)}}
  %0 = kiln.gated_mlp %x, %g, %g, %d : tensor<16x64xf32>, tensor<32x172xf32>, tensor<32x172xf32>, tensor<172x64xf32>
  return
}

// -----

func.func @inter(%x: tensor<16x64xf32>, %g: tensor<64x172xf32>, %d: tensor<128x64xf32>) {
  // expected-error @+1 {{'kiln.gated_mlp' op intermediate sizes differ: gate 172, up 172, down 128}}
  %0 = kiln.gated_mlp %x, %g, %g, %d : tensor<16x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>, tensor<128x64xf32>
  return
}
