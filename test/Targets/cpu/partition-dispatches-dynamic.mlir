// RUN: kiln-opt %s -split-input-file --kiln-cpu-partition-dispatches | FileCheck %s

// Dynamic dims: the rows of %in (dims-vector entry 0, from kiln.dims) size
// the intermediate and the grid. @main gains the dims vector D; its loads
// replace every dim, the index result (kiln-return-result-dims, which lists
// the dims it returned in kiln.result_dims) becomes the output's dim entry,
// and kiln_shapes fills D[1..]: the output dim, the
// slot's bytes (rows x 32 rounded to 64) and the grids' trip counts.
// Bindings: 2 = arena slot N, 3 = the dims vector; buffers of dynamic shape
// are passed as memref<1xT> and reinterpreted with their sizes from D.
// CHECK: module attributes {kiln.arena_bytes = 0 : i64, kiln.dims_length = [[LEN:[0-9]+]] : i64
// CHECK-SAME: kiln.output_dims = [array<i64: 1, -1>]
// CHECK-SAME: kiln.plan = [{bindings = array<i64: 0, 0, 3, 0, 2, 0>, buffer_bytes = array<i64: 0, {{[0-9]+}}, 0>, entry = "kiln_dispatch_0", workgroups = 1 : i64, workgroups_entry = [[W0:[0-9]+]] : i64}
// CHECK-SAME: {bindings = array<i64: 0, 1, 3, 0, 2, 0>, buffer_bytes = array<i64: 0, {{[0-9]+}}, 0>, entry = "kiln_dispatch_1", workgroups = 1 : i64, workgroups_entry = [[W0]] : i64}
// CHECK-SAME: kiln.shape_entry = "kiln_shapes", kiln.slots = array<i64: 3, 0, 1>
// CHECK: func.func @kiln_shapes(%[[DS:.*]]: memref<[[LEN]]xi64>)
// CHECK: %[[R:.*]] = memref.load %[[DS]][%c0]
// CHECK: memref.store %{{.*}}, %[[DS]][%c1
// CHECK: memref.store %{{.*}}, %[[DS]][%c2
// CHECK: arith.ceildivui
// CHECK: memref.store %{{.*}}, %[[DS]][%c3
// CHECK: func.func @kiln_dispatch_0(%[[IN:.*]]: memref<1xf32>, %[[D:.*]]: memref<[[LEN]]xi64>, %[[SLOT:.*]]: memref<1xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK: %[[ROWS:.*]] = memref.load %[[D]][%c0]
// CHECK: %[[N:.*]] = arith.index_cast %[[ROWS]]
// CHECK: memref.reinterpret_cast %[[IN]] to offset: [0], sizes: [%[[N]], 8], strides: [8, 1] : memref<1xf32> to memref<?x8xf32>
// CHECK-NOT: func.func @main
module attributes {kiln.symbols = 1 : i64, kiln.kernel_args = 1 : i64} {
  func.func @main(%in: memref<?x8xf32> {kiln.dims = array<i64: 0, -1>}, %out: memref<?x8xf32>) -> index attributes {kiln.result_dims = [array<i64: 0>]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %rows = memref.dim %in, %c0 : memref<?x8xf32>
    %a = memref.alloc(%rows) {alignment = 64 : i64} : memref<?x8xf32>
    scf.parallel (%i, %j) = (%c0, %c0) to (%rows, %c8) step (%c1, %c1) {
      %x = memref.load %in[%i, %j] : memref<?x8xf32>
      memref.store %x, %a[%i, %j] : memref<?x8xf32>
    }
    scf.parallel (%i, %j) = (%c0, %c0) to (%rows, %c8) step (%c1, %c1) {
      %x = memref.load %a[%i, %j] : memref<?x8xf32>
      memref.store %x, %out[%i, %j] : memref<?x8xf32>
    }
    memref.dealloc %a : memref<?x8xf32>
    return %rows : index
  }
}
