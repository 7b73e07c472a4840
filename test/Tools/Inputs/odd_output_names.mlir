// Outputs named like paths: kiln run must keep every file inside --output-dir.
func.func @main(%x: tensor<4xf32> {kiln.name = "x"})
    -> (tensor<4xf32> {kiln.name = "../ESCAPED"}, tensor<4xf32> {kiln.name = "/tmp/kiln-absolute-output"},
        tensor<4xf32> {kiln.name = ".."}, tensor<4xf32> {kiln.name = "a/b"},
        tensor<4xf32> {kiln.name = "a_b"}, tensor<4xf32> {kiln.name = ""}) {
  %a = kiln.unary relu %x : tensor<4xf32>
  %b = kiln.unary neg %x : tensor<4xf32>
  %c = kiln.unary abs %x : tensor<4xf32>
  %d = kiln.unary exp %x : tensor<4xf32>
  %e = kiln.unary tanh %x : tensor<4xf32>
  %f = kiln.unary sigmoid %x : tensor<4xf32>
  return %a, %b, %c, %d, %e, %f : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
