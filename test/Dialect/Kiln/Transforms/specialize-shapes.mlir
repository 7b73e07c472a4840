// RUN: kiln-opt %s '-kiln-specialize-shapes=input-shapes=tokens=2x16,arg1=16x8' | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.*}}: tensor<2x16xf32> {kiln.name = "tokens"}, %{{.*}}: tensor<16x8xf32>) -> tensor<2x8xf32>
// CHECK: kiln.unary exp %{{.*}} : tensor<2x16xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x16xf32>, tensor<16x8xf32>
// CHECK: return %{{.*}} : tensor<2x8xf32>
func.func @main(%x: tensor<?x?xf32> {kiln.name = "tokens"}, %w: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = kiln.unary exp %x : tensor<?x?xf32>
  %1 = kiln.matmul %0, %w : tensor<?x?xf32>, tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}
