func.func @main(%x: tensor<?x4xf32> {kiln.name = "x"}) -> (tensor<?x4xf32> {kiln.name = "y"}) {
  %0 = kiln.unary tanh %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
