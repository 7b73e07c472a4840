func.func @main(%x: tensor<3x4x4xf32> {kiln.name = "x"}) -> (tensor<3xf32> {kiln.name = "d"}) {
  %0 = kiln.det %x : tensor<3x4x4xf32>
  return %0 : tensor<3xf32>
}
