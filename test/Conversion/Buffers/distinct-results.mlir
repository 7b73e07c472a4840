// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-distinct-results))' -verify-diagnostics | FileCheck %s

// A buffer returned twice: the repeat returns a copy of its own (the kernel
// ABI gives each result its own out-parameter).
// CHECK-LABEL: func.func @twice
// CHECK: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK: %[[C:.*]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[A]], %[[C]]
// CHECK: %[[D:.*]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[A]], %[[D]]
// CHECK: return %[[A]], %[[C]], %arg0, %[[D]]
func.func @twice(%arg0: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %arg0, %a : memref<4xf32> to memref<4xf32>
  return %a, %a, %arg0, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// -----

// Distinct results are left alone.
// CHECK-LABEL: func.func @distinct
// CHECK-NOT: memref.copy
// CHECK: return %arg0, %arg1
func.func @distinct(%arg0: memref<4xf32>, %arg1: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  return %arg0, %arg1 : memref<4xf32>, memref<4xf32>
}

// -----

// A dynamic repeat: the copy takes the repeated buffer's dims.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[C:.*]] = memref.alloc(%[[N]]) : memref<?xf32>
// CHECK: memref.copy %arg0, %[[C]]
// CHECK: return %arg0, %[[C]]
func.func @dynamic(%arg0: memref<?xf32>) -> (memref<?xf32>, memref<?xf32>) {
  return %arg0, %arg0 : memref<?xf32>, memref<?xf32>
}
