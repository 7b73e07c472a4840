// Casts between strings and numbers, next to generated code that reads the
// same number input: the host steps read `x` too, and write `parsed` and
// `printed`; the kernel computes `y`.
func.func @main(%s: tensor<4x!kiln.string> {kiln.name = "s"}, %x: tensor<3xf32> {kiln.name = "x"})
    -> (tensor<4xf32> {kiln.name = "parsed"}, tensor<3x!kiln.string> {kiln.name = "printed"},
        tensor<3xf32> {kiln.name = "y"}) {
  %0 = kiln.cast %s : tensor<4x!kiln.string> to tensor<4xf32>
  %1 = kiln.cast %x : tensor<3xf32> to tensor<3x!kiln.string>
  %2 = kiln.binary add %x, %x : tensor<3xf32>, tensor<3xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<3x!kiln.string>, tensor<3xf32>
}
