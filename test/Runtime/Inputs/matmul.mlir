func.func @main(%a: tensor<4x8xf32> {kiln.name = "a"}, %b: tensor<8x3xf32> {kiln.name = "b"})
    -> (tensor<4x3xf32> {kiln.name = "c"}) {
  %c = kiln.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf32>
  return %c : tensor<4x3xf32>
}
