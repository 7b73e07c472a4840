// Strings from numbers that generated code computed: host steps run
// before the kernels, so this is not supported yet.
func.func @main(%x: tensor<3xf32> {kiln.name = "x"}) -> (tensor<3x!kiln.string> {kiln.name = "s"}) {
  %0 = kiln.binary add %x, %x : tensor<3xf32>, tensor<3xf32>
  %1 = kiln.cast %0 : tensor<3xf32> to tensor<3x!kiln.string>
  return %1 : tensor<3x!kiln.string>
}
