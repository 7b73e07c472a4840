// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// Linear 2x upsampling of H and W: one generic over the output, 2 x 2 taps
// read with tensor.extract (N and C are not resized: one tap each).
// CHECK-LABEL: func.func @linear
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @linear(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %0 = kiln.resize %x {mode = #kiln<resize_mode linear>, scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : tensor<1x1x2x2xf32> -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Cubic: 4 x 4 taps; nearest: one (rounding per nearest_mode).
// CHECK-LABEL: func.func @cubic
// CHECK-COUNT-16: tensor.extract %arg0
// CHECK-LABEL: func.func @nearest
// CHECK: math.ceil
// CHECK-COUNT-1: tensor.extract %arg0
func.func @cubic(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  %0 = kiln.resize %x {mode = #kiln<resize_mode cubic>, scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : tensor<1x1x4x4xf32> -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}
func.func @nearest(%x: tensor<1x1x4x4xi64>) -> tensor<1x1x2x2xi64> {
  %0 = kiln.resize %x {scales = array<f32: 1.0, 1.0, 0.5, 0.5>} : tensor<1x1x4x4xi64> -> tensor<1x1x2x2xi64>
  return %0 : tensor<1x1x2x2xi64>
}

// -----

// Run-time sizes over a dynamic image: the result's extents are the sizes'
// entries (tensor.extract, read per run), each scale out / in in f64 from
// the input's run-time dims; the taps clamp at the run-time last position.
// CHECK-LABEL: func.func @runtime_sizes
// CHECK: tensor.dim %arg0, %c2
// CHECK: tensor.extract %arg1[%c2]
// CHECK: arith.divf
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x?x?x?xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[E]] : tensor<?x?x?x?xf32>)
// CHECK: arith.minimumf
// CHECK-COUNT-1: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
// CHECK: linalg.yield
func.func @runtime_sizes(%x: tensor<?x?x?x?xf32>, %s: tensor<4xi64>) -> tensor<?x?x?x?xf32> {
  %0 = kiln.resize %x sizes %s : tensor<4xi64> {nearest_mode = "floor", coordinate_transformation_mode = "asymmetric"} : tensor<?x?x?x?xf32> -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// Run-time scales with a declared result: each scale read per run and
// widened to f64; the coordinates divide by it.
// CHECK-LABEL: func.func @runtime_scales
// CHECK: %[[S:.*]] = tensor.extract %arg1[%c3] : tensor<4xf32>
// CHECK: arith.extf %[[S]] : f32 to f64
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x1x4x6xf32>)
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
func.func @runtime_scales(%x: tensor<1x1x2x3xf32>, %s: tensor<4xf32>) -> tensor<1x1x4x6xf32> {
  %0 = kiln.resize %x scales %s : tensor<4xf32> {mode = #kiln<resize_mode linear>} : tensor<1x1x2x3xf32> -> tensor<1x1x4x6xf32>
  return %0 : tensor<1x1x4x6xf32>
}
