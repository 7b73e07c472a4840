// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @kv_cache_append
func.func @kv_cache_append(%past: tensor<1x2x?x64xf32>, %new: tensor<1x2x1x64xf32>) -> tensor<1x2x?x64xf32> {
  // CHECK: kiln.concat %{{.*}}, %{{.*}} axis = 2 : tensor<1x2x?x64xf32>, tensor<1x2x1x64xf32>
  %0 = kiln.concat %past, %new axis = 2 : tensor<1x2x?x64xf32>, tensor<1x2x1x64xf32>
  return %0 : tensor<1x2x?x64xf32>
}

// CHECK-LABEL: func.func @static
func.func @static(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  // CHECK: kiln.concat %{{.*}}, %{{.*}} axis = -1 : tensor<2x3xf32>, tensor<2x5xf32>
  %0 = kiln.concat %a, %b axis = -1 : tensor<2x3xf32>, tensor<2x5xf32>
  return %0 : tensor<2x8xf32>
}
