// A small model for the compile/run tests: y = gelu(a + b).
func.func @main(%a: tensor<2x3xf32> {kiln.name = "a"}, %b: tensor<3xf32> {kiln.name = "b"})
    -> (tensor<2x3xf32> {kiln.name = "y"}) {
  %0 = kiln.binary add %a, %b : tensor<2x3xf32>, tensor<3xf32>
  %1 = kiln.unary gelu %0 : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
