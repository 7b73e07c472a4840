// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @rotate_half_parts
func.func @rotate_half_parts(%x: tensor<1x8x16x64xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>) {
  // CHECK: kiln.slice %{{.*}} starts = [0, 0, 0, 0] ends = [1, 8, 16, 32] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  %0 = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 8, 16, 32] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  // Ends past the dimension clamp, as in ONNX.
  // CHECK: kiln.slice %{{.*}} starts = [0, 0, 0, 32] ends = [1, 8, 16, 9223372036854775807]
  %1 = kiln.slice %x starts = [0, 0, 0, 32] ends = [1, 8, 16, 9223372036854775807] steps = [1, 1, 1, 1] : tensor<1x8x16x64xf32>
  return %0, %1 : tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>
}

// CHECK-LABEL: func.func @reverse
func.func @reverse(%x: tensor<10xf32>) -> tensor<5xf32> {
  // CHECK: kiln.slice %{{.*}} starts = [-1] ends = [-9223372036854775808] steps = [-2] : tensor<10xf32>
  %0 = kiln.slice %x starts = [-1] ends = [-9223372036854775808] steps = [-2] : tensor<10xf32>
  return %0 : tensor<5xf32>
}

// Starts/ends (and axes, steps) computed at run time: every extent is dynamic.
// CHECK-LABEL: func.func @runtime_slice
func.func @runtime_slice(%x: tensor<20x10xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>) -> tensor<?x?xf32> {
  // CHECK: kiln.slice %{{.*}} runtime(%{{.*}}, %{{.*}} : tensor<1xi64>, tensor<1xi64>) runtime_axes %{{.*}} : tensor<1xi64> starts = [] ends = [] steps = [] : tensor<20x10xf32>
  %0 = kiln.slice %x runtime(%s, %e : tensor<1xi64>, tensor<1xi64>) runtime_axes %a : tensor<1xi64> starts = [] ends = [] steps = [] : tensor<20x10xf32>
  return %0 : tensor<?x?xf32>
}

// A part of a Split with run-time sizes: bounds taken as given (checked,
// not clamped), the last part reaching the dim.
// CHECK-LABEL: func.func @split_part
func.func @split_part(%x: tensor<7x2xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>) -> tensor<?x?xf32> {
  // CHECK: kiln.slice {{.*}} {exact_bounds, reaches_end} : tensor<7x2xf32>
  %0 = kiln.slice %x runtime(%s, %e : tensor<1xi64>, tensor<1xi64>) starts = [] ends = [] steps = [] {exact_bounds, reaches_end} : tensor<7x2xf32>
  return %0 : tensor<?x?xf32>
}
