// A string op the runtime has no host implementation of.
func.func @main(%x: tensor<3xf32> {kiln.name = "x"}) -> (tensor<3x!kiln.string> {kiln.name = "s"}) {
  %0 = kiln.cast %x : tensor<3xf32> to tensor<3x!kiln.string>
  return %0 : tensor<3x!kiln.string>
}
