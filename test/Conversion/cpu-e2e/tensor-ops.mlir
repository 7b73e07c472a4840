// Slice (negative step), edge/reflect padding, trilu and cumsum, executed.
// REQUIRES: mlir-runner
// RUN: kiln-opt %s --kiln-cpu-lowering-pipeline | %mlir_runner | FileCheck %s

func.func @main() {
  %x = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<5xf32>
  // x[3:0:-2] = [4, 2]
  %s = kiln.slice %x starts = [3] ends = [0] steps = [-2] : tensor<5xf32>
  %su = tensor.cast %s : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%su) : (tensor<*xf32>) -> ()
  // CHECK: [4, 2]

  // reflect by 2 on both sides: [3, 2, 1, 2, 3, 4, 5, 4, 3]
  %p = kiln.pad %x pads = [2, 2] {mode = #kiln<pad_mode reflect>} : tensor<5xf32>
  %pu = tensor.cast %p : tensor<9xf32> to tensor<*xf32>
  call @printMemrefF32(%pu) : (tensor<*xf32>) -> ()
  // CHECK: [3, 2, 1, 2, 3, 4, 5, 4, 3]

  // inclusive cumsum, then exclusive reverse cumsum
  %c = kiln.cumsum %x axis = 0 : tensor<5xf32>
  %cu = tensor.cast %c : tensor<5xf32> to tensor<*xf32>
  call @printMemrefF32(%cu) : (tensor<*xf32>) -> ()
  // CHECK: [1, 3, 6, 10, 15]
  %r = kiln.cumsum %x axis = 0 {exclusive, reverse} : tensor<5xf32>
  %ru = tensor.cast %r : tensor<5xf32> to tensor<*xf32>
  call @printMemrefF32(%ru) : (tensor<*xf32>) -> ()
  // CHECK: [14, 12, 9, 5, 0]

  // upper triangle with k = 1
  %m = arith.constant dense<1.0> : tensor<3x3xf32>
  %k = arith.constant dense<1> : tensor<i64>
  %t = kiln.trilu %m k %k : tensor<i64> upper : tensor<3x3xf32>
  %tu = tensor.cast %t : tensor<3x3xf32> to tensor<*xf32>
  call @printMemrefF32(%tu) : (tensor<*xf32>) -> ()
  // CHECK: {{\[}}[0, 1, 1],
  // CHECK-NEXT: [0, 0, 1],
  // CHECK-NEXT: [0, 0, 0]]
  return
}
func.func private @printMemrefF32(%ptr : tensor<*xf32>)
