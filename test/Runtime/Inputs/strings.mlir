// Strings next to numbers: the string input comes first and the string
// output second, so the kernels' argument and result numbering differs from
// the model's.
func.func @main(%words: tensor<4x!kiln.string> {kiln.name = "words"},
                %x: tensor<3xf32> {kiln.name = "x"})
    -> (tensor<3xf32> {kiln.name = "doubled"}, tensor<3x!kiln.string> {kiln.name = "kept"}) {
  %0 = kiln.string_normalize %words {case_change = "UPPER", stopwords = ["MONDAY"]}
      : tensor<4x!kiln.string> -> tensor<3x!kiln.string>
  %1 = kiln.binary add %x, %x : tensor<3xf32>, tensor<3xf32>
  return %1, %0 : tensor<3xf32>, tensor<3x!kiln.string>
}
