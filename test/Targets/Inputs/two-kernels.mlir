// Two GPU kernels: exp(b) cannot fuse into the broadcast that reads it, so
// its result goes through the device arena.
func.func @main(%a: tensor<256x128xf32> {kiln.name = "a"}, %b: tensor<128xf32> {kiln.name = "b"}) -> (tensor<256x128xf32> {kiln.name = "y"}) {
  %e = kiln.unary exp %b : tensor<128xf32>
  %0 = kiln.binary add %a, %e : tensor<256x128xf32>, tensor<128xf32>
  %1 = kiln.unary silu %0 : tensor<256x128xf32>
  return %1 : tensor<256x128xf32>
}
