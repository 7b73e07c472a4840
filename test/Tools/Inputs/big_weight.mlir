// A 1 MiB weight read from FILE: an artifact much larger than its kernels.
func.func @main(%x: tensor<256x1024xf32> {kiln.name = "x"}) -> (tensor<256x1024xf32> {kiln.name = "y"}) {
  %w = kiln.weight "w" from "FILE" at 0 : tensor<256x1024xf32>
  %y = kiln.binary add %x, %w : tensor<256x1024xf32>, tensor<256x1024xf32>
  return %y : tensor<256x1024xf32>
}
