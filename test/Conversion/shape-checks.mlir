// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-shape-checks))' | FileCheck %s

// Operand dims one loop dim indexes are asserted equal, against a static
// one where there is one; the message names the node.
// CHECK-LABEL: func @add
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[A:.+]] = memref.dim %arg0, %[[C0]]
// CHECK: %[[B:.+]] = memref.dim %arg1, %[[C0]]
// CHECK: %[[EQ:.+]] = arith.cmpi eq, %[[A]], %[[B]]
// CHECK: cf.assert %[[EQ]], "node 'add_1' (Add) needs sizes {0} and {1} to be equal"
// CHECK: %[[O:.+]] = memref.dim %arg2, %[[C0]]
// CHECK: arith.cmpi eq, %[[A]], %[[O]]
// CHECK: cf.assert
// The static dim 8 meets no dynamic one: nothing to check.
// CHECK-NOT: cf.assert
// CHECK: linalg.generic
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @add(%a: memref<?x8xf32>, %b: memref<?x8xf32>, %o: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : memref<?x8xf32>, memref<?x8xf32>) outs(%o : memref<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } loc("add_1"("Add"))
  return
}

// -----

// A matmul's rows (input and output), its reduced dim (the static side is
// the reference).
// CHECK-LABEL: func @matmul
// CHECK: %[[M:.+]] = memref.dim %arg0
// CHECK: %[[MO:.+]] = memref.dim %arg2
// CHECK: arith.cmpi eq, %[[M]], %[[MO]]
// CHECK: cf.assert
// CHECK: %[[K:.+]] = memref.dim %arg0, %[[C1:.+]] :
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK: %[[EQ:.+]] = arith.cmpi eq, %[[C16]], %[[K]]
// CHECK: cf.assert %[[EQ]], "'linalg.matmul' needs sizes {0} and {1} to be equal"
// CHECK: linalg.matmul
func.func @matmul(%a: memref<?x?xf32>, %b: memref<16x4xf32>, %o: memref<?x4xf32>) {
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<16x4xf32>) outs(%o : memref<?x4xf32>)
  return
}

// -----

// A cast to a static size, an expand_shape group (its product -1 where it
// wraps: sizes from input values are unbounded), a reshape's element
// count, a subview's end.
// CHECK-LABEL: func @views
// CHECK: memref.dim %arg0
// CHECK: arith.cmpi eq, {{.*}}, %c6
// CHECK: cf.assert {{.*}} "'memref.cast' needs sizes {0} and {1} to be equal"
// CHECK: memref.cast
// CHECK: arith.muli %arg1, %c4
// CHECK: arith.divui
// CHECK: %[[P:.+]] = arith.select %{{.*}}, %c-1, %{{.*}}
// CHECK: arith.cmpi eq, %[[P]]
// CHECK: cf.assert {{.*}} "'memref.expand_shape' reshapes {1} elements into {0}"
// CHECK: memref.expand_shape
// CHECK: cf.assert {{.*}} "'memref.reshape' reshapes {0} elements into {1}"
// CHECK: memref.reshape
// CHECK: %[[END:.+]] = arith.select
// CHECK: arith.cmpi ule, %[[END]]
// CHECK: cf.assert {{.*}} "'memref.subview' reaches element {0} of a dim of {1}"
// CHECK: memref.subview
func.func @views(%a: memref<?xf32>, %n: index, %off: index) {
  %c = memref.cast %a : memref<?xf32> to memref<6xf32>
  %e = memref.expand_shape %a [[0, 1]] output_shape [%n, 4] : memref<?xf32> into memref<?x4xf32>
  %shape = memref.alloca() : memref<1xindex>
  %r = memref.reshape %a(%shape) : (memref<?xf32>, memref<1xindex>) -> memref<6xf32>
  %s = memref.subview %a[%off] [2] [1] : memref<?xf32> to memref<2xf32, strided<[1], offset: ?>>
  return
}

// -----

// All static: no checks.
// CHECK-LABEL: func @static
// CHECK-NOT: cf.assert
func.func @static(%a: memref<4xf32>, %o: memref<4xf32>) {
  linalg.copy ins(%a : memref<4xf32>) outs(%o : memref<4xf32>)
  %s = memref.subview %a[1] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 1>>
  return
}
