// A 4 TiB input: larger than any test machine's memory.
func.func @main(%x: tensor<1099511627776xf32> {kiln.name = "x"}) -> (tensor<1099511627776xf32> {kiln.name = "y"}) {
  %y = kiln.unary relu %x : tensor<1099511627776xf32>
  return %y : tensor<1099511627776xf32>
}
