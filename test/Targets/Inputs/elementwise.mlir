// An elementwise model for the GPU target tests: silu(a + b).
func.func @main(%a: tensor<256x128xf32>, %b: tensor<128xf32>) -> tensor<256x128xf32> {
  %0 = kiln.binary add %a, %b : tensor<256x128xf32>, tensor<128xf32>
  %1 = kiln.unary silu %0 : tensor<256x128xf32>
  return %1 : tensor<256x128xf32>
}
