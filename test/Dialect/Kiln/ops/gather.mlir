// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @embedding
func.func @embedding(%table: tensor<1000x64xf32>, %ids: tensor<2x16xi64>) -> tensor<2x16x64xf32> {
  // CHECK: kiln.gather %{{.*}}[%{{.*}}] axis = 0 : tensor<1000x64xf32>, tensor<2x16xi64>
  %0 = kiln.gather %table[%ids] axis = 0 : tensor<1000x64xf32>, tensor<2x16xi64>
  return %0 : tensor<2x16x64xf32>
}

// CHECK-LABEL: func.func @scalar_index
func.func @scalar_index(%shape: tensor<4xi64>, %i: tensor<i64>) -> tensor<i64> {
  // CHECK: kiln.gather %{{.*}}[%{{.*}}] axis = 0 : tensor<4xi64>, tensor<i64>
  %0 = kiln.gather %shape[%i] axis = 0 : tensor<4xi64>, tensor<i64>
  return %0 : tensor<i64>
}
