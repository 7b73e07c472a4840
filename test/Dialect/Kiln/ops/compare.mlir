// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @compare
func.func @compare(%a: tensor<4x1xi64>, %b: tensor<5xi64>) -> tensor<4x5xi1> {
  // CHECK: kiln.compare lt %{{.*}}, %{{.*}} : tensor<4x1xi64>, tensor<5xi64>
  %0 = kiln.compare lt %a, %b : tensor<4x1xi64>, tensor<5xi64>
  return %0 : tensor<4x5xi1>
}
