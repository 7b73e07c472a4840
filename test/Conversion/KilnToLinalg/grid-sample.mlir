// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// One generic over the result; per spatial dim the grid's coordinate (the
// last dim's first) is mapped to the input in f64, two taps per dim for
// linear; a tap outside the input weighs 0 (zeros padding), and every read
// is clamped into the input (minnum/maxnum: a NaN coordinate reads 0).
// CHECK-LABEL: func.func @bilinear_zeros
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: %[[H:.*]] = linalg.index 2 : index
// CHECK: %[[W:.*]] = linalg.index 3 : index
// CHECK: tensor.extract %arg1[%{{.*}}, %[[H]], %[[W]], %c1] : tensor<1x2x4x2xf32>
// CHECK: math.floor
// CHECK: arith.cmpf oge
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: tensor.extract %arg1[%{{.*}}, %[[H]], %[[W]], %c0] : tensor<1x2x4x2xf32>
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK: arith.truncf %{{.*}} : f64 to f32
func.func @bilinear_zeros(%x: tensor<1x1x3x2xf32>, %g: tensor<1x2x4x2xf32>) -> tensor<1x1x2x4xf32> {
  %0 = kiln.grid_sample %x, %g : tensor<1x1x3x2xf32>, tensor<1x2x4x2xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// Nearest rounds halves to even (as PyTorch); reflection reflects a
// coordinate outside the borders; bicubic reads 4 x 4 taps.
// CHECK-LABEL: func.func @nearest_reflection
// CHECK: math.roundeven
// CHECK: arith.cmpf olt
// CHECK-COUNT-1: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
func.func @nearest_reflection(%x: tensor<2x3x5x4xf32>, %g: tensor<2x6x7x2xf32>) -> tensor<2x3x6x7xf32> {
  %0 = kiln.grid_sample %x, %g {mode = #kiln<resize_mode nearest>, padding = #kiln<grid_padding reflection>} : tensor<2x3x5x4xf32>, tensor<2x6x7x2xf32>
  return %0 : tensor<2x3x6x7xf32>
}

// -----

// CHECK-LABEL: func.func @bicubic_border_dynamic
// CHECK: tensor.dim %arg1, %c1
// CHECK: tensor.empty(%{{.*}}) : tensor<1x1x?x4xf32>
// CHECK-COUNT-16: tensor.extract %arg0
func.func @bicubic_border_dynamic(%x: tensor<1x1x?x?xf32>, %g: tensor<1x?x4x2xf32>) -> tensor<1x1x?x4xf32> {
  %0 = kiln.grid_sample %x, %g {mode = #kiln<resize_mode cubic>, padding = #kiln<grid_padding border>, align_corners} : tensor<1x1x?x?xf32>, tensor<1x?x4x2xf32>
  return %0 : tensor<1x1x?x4xf32>
}
