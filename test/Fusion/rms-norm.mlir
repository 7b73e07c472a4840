// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// torch's export: Pow(x, 2), ReduceMean, Add eps, Sqrt, Div(1, .), Mul x, Mul w.
// CHECK-LABEL: func.func @torch_form
// CHECK-NEXT: %[[N:.*]] = kiln.rms_norm %arg0, %arg1 {epsilon = 9.99999974E-6 : f32} : tensor<2x8x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[N]]
func.func @torch_form(%x: tensor<2x8x64xf32>, %w: tensor<64xf32>) -> tensor<2x8x64xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-5> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %0 = kiln.binary pow %x, %two : tensor<2x8x64xf32>, tensor<f32>
  %1 = kiln.reduce mean %0 axes = [-1] keepdims : tensor<2x8x64xf32>
  %2 = kiln.binary add %1, %eps : tensor<2x8x1xf32>, tensor<f32>
  %3 = kiln.unary sqrt %2 : tensor<2x8x1xf32>
  %4 = kiln.binary div %one, %3 : tensor<f32>, tensor<2x8x1xf32>
  %5 = kiln.binary mul %x, %4 : tensor<2x8x64xf32>, tensor<2x8x1xf32>
  %6 = kiln.binary mul %5, %w : tensor<2x8x64xf32>, tensor<64xf32>
  return %6 : tensor<2x8x64xf32>
}

// -----

// x * x, eps on the left, rsqrt, weight on the left.
// CHECK-LABEL: func.func @rsqrt_form
// CHECK: kiln.rms_norm %arg0, %arg1
// CHECK-NOT: kiln.reduce
func.func @rsqrt_form(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = kiln.binary mul %x, %x : tensor<4x32xf32>, tensor<4x32xf32>
  %1 = kiln.reduce mean %0 axes = [1] keepdims : tensor<4x32xf32>
  %2 = kiln.binary add %eps, %1 : tensor<f32>, tensor<4x1xf32>
  %3 = kiln.unary rsqrt %2 : tensor<4x1xf32>
  %4 = kiln.binary mul %3, %x : tensor<4x1xf32>, tensor<4x32xf32>
  %5 = kiln.binary mul %w, %4 : tensor<32xf32>, tensor<4x32xf32>
  return %5 : tensor<4x32xf32>
}

// -----

// x / sqrt(...) with no weight: a weight of ones is made up.
// CHECK-LABEL: func.func @div_no_weight
// CHECK: %[[ONES:.*]] = arith.constant dense<1.000000e+00> : tensor<32xf32>
// CHECK: kiln.rms_norm %arg0, %[[ONES]]
func.func @div_no_weight(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = kiln.binary pow %x, %two : tensor<4x32xf32>, tensor<f32>
  %1 = kiln.reduce mean %0 axes = [-1] keepdims : tensor<4x32xf32>
  %2 = kiln.binary add %1, %eps : tensor<4x1xf32>, tensor<f32>
  %3 = kiln.unary sqrt %2 : tensor<4x1xf32>
  %4 = kiln.binary div %x, %3 : tensor<4x32xf32>, tensor<4x1xf32>
  return %4 : tensor<4x32xf32>
}

// -----

// Look-alikes that must not fuse: the mean over a leading axis, and a
// square of one tensor normalizing another.
// CHECK-LABEL: func.func @leading_axis
// CHECK-NOT: kiln.rms_norm
// CHECK-LABEL: func.func @other_tensor
// CHECK-NOT: kiln.rms_norm
func.func @leading_axis(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = kiln.binary pow %x, %two : tensor<4x32xf32>, tensor<f32>
  %1 = kiln.reduce mean %0 axes = [0] keepdims : tensor<4x32xf32>
  %2 = kiln.binary add %1, %eps : tensor<1x32xf32>, tensor<f32>
  %3 = kiln.unary rsqrt %2 : tensor<1x32xf32>
  %4 = kiln.binary mul %x, %3 : tensor<4x32xf32>, tensor<1x32xf32>
  return %4 : tensor<4x32xf32>
}
func.func @other_tensor(%x: tensor<4x32xf32>, %y: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = kiln.binary pow %x, %two : tensor<4x32xf32>, tensor<f32>
  %1 = kiln.reduce mean %0 axes = [-1] keepdims : tensor<4x32xf32>
  %2 = kiln.binary add %1, %eps : tensor<4x1xf32>, tensor<f32>
  %3 = kiln.unary rsqrt %2 : tensor<4x1xf32>
  %4 = kiln.binary mul %y, %3 : tensor<4x32xf32>, tensor<4x1xf32>
  return %4 : tensor<4x32xf32>
}
