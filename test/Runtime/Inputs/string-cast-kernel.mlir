// Numbers parsed from strings feeding generated code: not supported yet.
func.func @main(%s: tensor<4x!kiln.string> {kiln.name = "s"}) -> (tensor<4xf32> {kiln.name = "y"}) {
  %0 = kiln.cast %s : tensor<4x!kiln.string> to tensor<4xf32>
  %1 = kiln.binary add %0, %0 : tensor<4xf32>, tensor<4xf32>
  return %1 : tensor<4xf32>
}
