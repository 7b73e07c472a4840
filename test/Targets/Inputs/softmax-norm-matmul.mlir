// Beyond elementwise on the cuda target: reductions (a thread per row),
// a matmul (a thread per output) and a layout change.
func.func @main(%x: tensor<64x96xf32> {kiln.name = "x"}, %g: tensor<96xf32> {kiln.name = "g"},
                %b: tensor<96xf32> {kiln.name = "b"}, %w: tensor<96x32xf32> {kiln.name = "w"})
    -> (tensor<32x64xf32> {kiln.name = "y"}) {
  %0 = kiln.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : tensor<64x96xf32>, tensor<96xf32>, tensor<96xf32>
  %1 = kiln.softmax %0 axis = 1 : tensor<64x96xf32>
  %2 = kiln.matmul %1, %w : tensor<64x96xf32>, tensor<96x32xf32>
  %3 = kiln.transpose %2 perm = [1, 0] : tensor<64x32xf32>
  return %3 : tensor<32x64xf32>
}
