// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// DFT as its definition: a reduction over the points the input has, at
// most the transform's length (the rest would be zero padding); the angle
// from (k n mod L); the result's last dim picks the component.
// CHECK-DAG: #[[POINTS:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @dft
// CHECK: %[[DIM:.*]] = tensor.dim %arg0, %c1 : tensor<2x?x1xf32>
// CHECK: %[[N:.*]] = arith.minui %[[DIM]], %c12 : index
// CHECK: %[[W:.*]] = tensor.empty(%[[N]]) : tensor<?xi8>
// CHECK: linalg.generic {indexing_maps = [#[[POINTS]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[W]] : tensor<?xi8>)
// CHECK: %[[K:.*]] = linalg.index 1 : index
// CHECK: %[[C:.*]] = linalg.index 2 : index
// CHECK: %[[P:.*]] = linalg.index 3 : index
// CHECK: tensor.extract %arg0[%{{.*}}, %[[P]], %c0]
// CHECK: %[[KN:.*]] = arith.muli %[[K]], %[[P]] : index
// CHECK: arith.remui %[[KN]], %c12 : index
// CHECK: math.cos
// CHECK: math.sin
// CHECK: arith.cmpi eq, %[[C]], %c0 : index
func.func @dft(%x: tensor<2x?x1xf32>) -> tensor<2x7x2xf32> {
  %0 = kiln.dft %x {axis = 1 : i64, length = 12 : i64, onesided} : tensor<2x?x1xf32>
  return %0 : tensor<2x7x2xf32>
}

// -----

// The inverse of a complex input reads both components and scales by 1/L.
// CHECK-LABEL: func.func @dft_inverse
// CHECK: tensor.extract %arg0[{{.*}}, %c0] : tensor<3x8x2xf32>
// CHECK: tensor.extract %arg0[{{.*}}, %c1] : tensor<3x8x2xf32>
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f64
func.func @dft_inverse(%x: tensor<3x8x2xf32>) -> tensor<3x8x2xf32> {
  %0 = kiln.dft %x {axis = 1 : i64, length = 8 : i64, inverse} : tensor<3x8x2xf32>
  return %0 : tensor<3x8x2xf32>
}

// -----

// STFT: frames every frame_step points (a run-time value: the frame count
// is computed per run), each point times the window, read through the map;
// the step is checked positive (and a zero one does not divide: the shape
// function computes the frame count before the checks are read).
// CHECK-LABEL: func.func @stft
// CHECK: %[[STEP:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: cf.assert %{{.*}}, "'kiln.stft': frame_step must be positive"
// CHECK: %[[POS:.*]] = arith.cmpi sgt, %[[STEP]], %c0 : index
// CHECK: %[[SAFE:.*]] = arith.select %[[POS]], %[[STEP]], %c1 : index
// CHECK: %[[F:.*]] = arith.divui %c48, %[[SAFE]] : index
// CHECK: %[[FRAMES:.*]] = arith.addi %[[F]], %c1 : index
// CHECK: tensor.empty(%[[FRAMES]]) : tensor<1x?x9x2xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg2 : tensor<16xf32>)
// CHECK: arith.muli %{{.*}}, %[[SAFE]] : index
// CHECK: arith.minui %{{.*}}, %c63 : index
func.func @stft(%s: tensor<1x64x1xf32>, %step: tensor<i64>, %w: tensor<16xf32>) -> tensor<1x?x9x2xf32> {
  %0 = kiln.stft %s step %step : tensor<i64> window %w : tensor<16xf32> {onesided} : tensor<1x64x1xf32>
  return %0 : tensor<1x?x9x2xf32>
}
