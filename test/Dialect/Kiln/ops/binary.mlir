// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @broadcast
func.func @broadcast(%a: tensor<2x1x8xf32>, %b: tensor<3x1xf32>, %c: tensor<?x8xf32>)
    -> (tensor<2x3x8xf32>, tensor<2x?x8xf32>) {
  // CHECK: %[[S:.*]] = kiln.binary add %{{.*}}, %{{.*}} : tensor<2x1x8xf32>, tensor<3x1xf32>
  %0 = kiln.binary add %a, %b : tensor<2x1x8xf32>, tensor<3x1xf32>
  // A dynamic dim against a 1 stays dynamic.
  // CHECK: kiln.binary mul %{{.*}}, %{{.*}} : tensor<2x1x8xf32>, tensor<?x8xf32>
  %1 = kiln.binary mul %a, %c : tensor<2x1x8xf32>, tensor<?x8xf32>
  return %0, %1 : tensor<2x3x8xf32>, tensor<2x?x8xf32>
}

// CHECK-LABEL: func.func @logic_and_bits
func.func @logic_and_bits(%p: tensor<4xi1>, %q: tensor<4xi1>, %i: tensor<4xi64>) -> (tensor<4xi1>, tensor<4xi64>) {
  // CHECK: kiln.binary and
  %0 = kiln.binary and %p, %q : tensor<4xi1>, tensor<4xi1>
  // CHECK: kiln.binary shl
  %1 = kiln.binary shl %i, %i : tensor<4xi64>, tensor<4xi64>
  return %0, %1 : tensor<4xi1>, tensor<4xi64>
}
