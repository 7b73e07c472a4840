// Det lowers for matrices up to 8 x 8 only: a 9 x 9 one has no lowering.
func.func @main(%x: tensor<3x9x9xf32> {kiln.name = "x"}) -> (tensor<3xf32> {kiln.name = "d"}) {
  %0 = kiln.det %x : tensor<3x9x9xf32>
  return %0 : tensor<3xf32>
}
