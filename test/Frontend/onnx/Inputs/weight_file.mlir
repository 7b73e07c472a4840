func.func @main(%x: tensor<32x32xf32> {kiln.name = "x"}) -> (tensor<32x32xf32> {kiln.name = "y"}) {
  %w = kiln.weight "w" from "FILE" at 0 : tensor<32x32xf32>
  %y = kiln.binary add %x, %w : tensor<32x32xf32>, tensor<32x32xf32>
  return %y : tensor<32x32xf32>
}
