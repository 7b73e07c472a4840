// Executes kiln IR lowered by kiln-cpu-lowering-pipeline and checks the
// numbers (computed by hand; see the comments).
// REQUIRES: mlir-runner
// RUN: kiln-opt %s --kiln-cpu-lowering-pipeline | %mlir_runner | FileCheck %s

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
  %w = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]> : tensor<3x2xf32>
  // a + b = [[1.5, 1, 5], [4.5, 4, 8]]
  %0 = kiln.binary add %a, %b : tensor<2x3xf32>, tensor<3xf32>
  // (a + b) w = [[6.5, 6], [12.5, 12]]
  %1 = kiln.matmul %0, %w : tensor<2x3xf32>, tensor<3x2xf32>
  // softmax of a difference of 0.5: [0.622459, 0.377541] per row
  %2 = kiln.softmax %1 axis = -1 : tensor<2x2xf32>
  %u = tensor.cast %2 : tensor<2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [2, 2]
  // CHECK-NEXT: {{\[}}[0.622459, 0.377541],
  // CHECK-NEXT: [0.622459, 0.377541]]

  // row means of a + b: 7.5 / 3 and 16.5 / 3
  %3 = kiln.reduce mean %0 axes = [1] keepdims : tensor<2x3xf32>
  %v = tensor.cast %3 : tensor<2x1xf32> to tensor<*xf32>
  call @printMemrefF32(%v) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [2, 1]
  // CHECK-NEXT: {{\[}}[2.5],
  // CHECK-NEXT: [5.5]]

  // gelu(0) = 0, gelu(1) = 0.841345, silu(-1) = -0.268941
  %g = arith.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %4 = kiln.unary gelu %g : tensor<2xf32>
  %s = arith.constant dense<[-1.0]> : tensor<1xf32>
  %5 = kiln.unary silu %s : tensor<1xf32>
  %6 = kiln.concat %4, %5 axis = 0 : tensor<2xf32>, tensor<1xf32>
  %x = tensor.cast %6 : tensor<3xf32> to tensor<*xf32>
  call @printMemrefF32(%x) : (tensor<*xf32>) -> ()
  // CHECK: sizes = [3]
  // CHECK-NEXT: [0, 0.841345, -0.268941]
  return
}
func.func private @printMemrefF32(%ptr : tensor<*xf32>)
