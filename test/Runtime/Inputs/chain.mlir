func.func @main(%x: tensor<64x32xf32> {kiln.name = "x"}, %w1: tensor<32x64xf32> {kiln.name = "w1"},
                %w2: tensor<64x32xf32> {kiln.name = "w2"}, %w3: tensor<32x32xf32> {kiln.name = "w3"})
    -> (tensor<64x32xf32> {kiln.name = "y"}) {
  %h = kiln.matmul %x, %w1 : tensor<64x32xf32>, tensor<32x64xf32>
  %r = kiln.unary relu %h : tensor<64x64xf32>
  %o = kiln.matmul %r, %w2 : tensor<64x64xf32>, tensor<64x32xf32>
  %t = kiln.unary tanh %o : tensor<64x32xf32>
  %y = kiln.matmul %t, %w3 : tensor<64x32xf32>, tensor<32x32xf32>
  return %y : tensor<64x32xf32>
}
