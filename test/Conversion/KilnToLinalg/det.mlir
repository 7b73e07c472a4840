// RUN: not kiln-opt %s -split-input-file --kiln-to-linalg=strict 2>/dev/null | FileCheck %s
// RUN: not kiln-opt %s -split-input-file --kiln-to-linalg=strict 2>&1 >/dev/null | FileCheck %s --check-prefix=BIG

// One generic over the batch: the matrix read whole, eliminated in f64 with
// the pivot row chosen and swapped by selects (a swap negates).
// CHECK-LABEL: func.func @det3
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} outs(%{{.*}} : tensor<5xf32>)
// CHECK-COUNT-9: tensor.extract %arg0
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: arith.negf
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f64 to f32
func.func @det3(%x: tensor<5x3x3xf32>) -> tensor<5xf32> {
  %0 = kiln.det %x : tensor<5x3x3xf32>
  return %0 : tensor<5xf32>
}

// -----

// Past 8 x 8 the unrolled elimination is not used: no lowering yet.
// BIG: 'kiln.det' has no lowering to linalg
func.func @det16(%x: tensor<16x16xf32>) -> tensor<f32> {
  %0 = kiln.det %x : tensor<16x16xf32>
  return %0 : tensor<f32>
}
