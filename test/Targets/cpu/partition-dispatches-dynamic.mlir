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

// -----

// Run-time checks (kiln-shape-checks): one relating entries 0 and 1
// becomes a check kiln_shapes fills (1 when it holds) with the compared
// sizes the input entries themselves; one relating dims that share entry 0
// folds away; one over a size read from data cannot be made before a run
// and goes.
// CHECK: kiln.shape_checks = {{\[}}[2, 0, 1, "node 'add' (Add) needs sizes {0} and {1} to be equal"]]
// CHECK: func.func @kiln_shapes(%[[DS:.*]]: memref<{{[0-9]+}}xi64>)
// CHECK: memref.load %[[DS]][%c0]
// CHECK: %[[A:.*]] = arith.index_cast
// CHECK: memref.load %[[DS]][%c1]
// CHECK: %[[B:.*]] = arith.index_cast
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[A]], %[[B]]
// CHECK: %[[OK:.*]] = arith.extui %[[EQ]] : i1 to i64
// CHECK: memref.store %[[OK]], %[[DS]][%c2
// CHECK-NOT: cf.assert
module attributes {kiln.symbols = 2 : i64, kiln.kernel_args = 3 : i64} {
  func.func @main(%a: memref<?xf32> {kiln.dims = array<i64: 0>}, %b: memref<?xf32> {kiln.dims = array<i64: 1>},
                  %c: memref<?xf32> {kiln.dims = array<i64: 0>}, %out: memref<4xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %da = memref.dim %a, %c0 : memref<?xf32>
    %db = memref.dim %b, %c0 : memref<?xf32>
    %dc = memref.dim %c, %c0 : memref<?xf32>
    %ab = arith.cmpi eq, %da, %db : index
    cf.assert %ab, "node 'add' (Add) needs sizes {0} and {1} to be equal"
    %ac = arith.cmpi eq, %da, %dc : index
    cf.assert %ac, "node 'mul' (Mul) needs sizes {0} and {1} to be equal"
    %x = memref.load %a[%c0] : memref<?xf32>
    %n = arith.fptosi %x : f32 to i64
    %ni = arith.index_cast %n : i64 to index
    %an = arith.cmpi ule, %ni, %da : index
    cf.assert %an, "node 'gather' (Gather) reaches element {0} of a dim of {1}"
    scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
      %y = memref.load %a[%i] : memref<?xf32>
      memref.store %y, %out[%i] : memref<4xf32>
    }
    return
  }
}

// -----

// Sizes decided by an input's values (a Reshape target read at run time):
// every input dim is static (kiln.symbols = 0), and the top-level loads of
// the small integer input %n (kiln.value_input: the compiler found it
// eligible) read D[0, 2), which the runtime fills with its
// values (kiln.input_values: kernel argument 1, entry 0, 2 values); the
// output's dims are then shape values like any other.
// CHECK: kiln.input_values = array<i64: 1, 0, 2>
// CHECK-SAME: kiln.output_dims = [array<i64: [[E0:[0-9]+]], [[E1:[0-9]+]]>]
// CHECK: func.func @kiln_shapes(%[[DS:.*]]: memref<{{[0-9]+}}xi64>)
// CHECK: memref.load %[[DS]][%c0]
// CHECK: memref.load %[[DS]][%c1]
// CHECK-NOT: func.func @main
module attributes {kiln.symbols = 0 : i64, kiln.kernel_args = 2 : i64} {
  func.func @main(%in: memref<24xf32>, %n: memref<2xi64> {kiln.value_input}, %out: memref<?x?xf32>) -> (index, index) attributes {kiln.result_dims = [array<i64: 0, 1>]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %r64 = memref.load %n[%c0] : memref<2xi64>
    %k64 = memref.load %n[%c1] : memref<2xi64>
    %r = arith.index_cast %r64 : i64 to index
    %k = arith.index_cast %k64 : i64 to index
    %view = memref.reinterpret_cast %in to offset: [0], sizes: [%r, %k], strides: [%k, 1] : memref<24xf32> to memref<?x?xf32, strided<[?, 1]>>
    memref.copy %view, %out : memref<?x?xf32, strided<[?, 1]>> to memref<?x?xf32>
    return %r, %k : index, index
  }
}

// -----

// A grid whose first dim has a run-time count (a dynamic batch, often 1
// when it runs) over more dims: batch and rows become one grid dim
// (delinearized inside), so the threads split the rows; the innermost dim
// stays a loop.
// CHECK: kiln.plan = [{bindings = {{.*}}, entry = "kiln_dispatch_0", workgroups = 1 : i64, workgroups_entry = [[W:[0-9]+]] : i64}]
// CHECK: func.func @kiln_shapes
// CHECK: %[[B:.*]] = arith.index_cast
// CHECK: %[[S:.*]] = arith.index_cast
// CHECK: %[[BS:.*]] = arith.muli %{{.*}}, %[[S]]
// CHECK: func.func @kiln_dispatch_0
// CHECK: scf.parallel (%[[I:.*]], %[[K:.*]]) =
// CHECK: arith.remsi %[[I]]
// CHECK: arith.divsi %[[I]]
module attributes {kiln.symbols = 2 : i64, kiln.kernel_args = 1 : i64} {
  func.func @main(%in: memref<?x?x8xf32> {kiln.dims = array<i64: 0, 1, -1>}, %out: memref<?x?x8xf32>) -> (index, index) attributes {kiln.result_dims = [array<i64: 0, 1>]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %b = memref.dim %in, %c0 : memref<?x?x8xf32>
    %s = memref.dim %in, %c1 : memref<?x?x8xf32>
    scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %s, %c8) step (%c1, %c1, %c1) {
      %x = memref.load %in[%i, %j, %k] : memref<?x?x8xf32>
      memref.store %x, %out[%i, %j, %k] : memref<?x?x8xf32>
    }
    return %b, %s : index, index
  }
}

// -----

// A data dim: the top-level min(count, bound) marked kiln.data_size (what
// NonZero lowers to; the count loaded from a buffer a dispatch wrote, the
// bound a size) gets a D
// entry (1 here) of its own, stored by the dispatch computing it
// (kiln.data_dims: entry, dispatch); kiln_shapes and later dispatches read
// that entry, or the bound while it is still -1; the output's dim (entry
// 2), the slot's bytes and the grids follow it.
// CHECK: kiln.data_dims = array<i64: 1, 1>
// CHECK-SAME: kiln.output_dims = [array<i64: 2>]
// CHECK: func.func @kiln_shapes(%[[DS:.*]]: memref<6xi64>)
// CHECK: %[[B:.*]] = memref.load %[[DS]][%c0]
// CHECK: %[[BOUND:.*]] = arith.index_cast %[[B]] : i64 to index
// CHECK: %[[E:.*]] = memref.load %[[DS]][%c1{{.*}}]
// CHECK: %[[UNSET:.*]] = arith.cmpi slt, %[[E]], %c0_i64
// CHECK: %[[S:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: %[[P:.*]] = arith.select %[[UNSET]], %[[BOUND]], %[[S]] : index
// CHECK: %[[N:.*]] = arith.minui %[[P]], %[[BOUND]] : index
// CHECK: %[[N64:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: memref.store %[[N64]], %[[DS]][%c2]
// CHECK: func.func @kiln_dispatch_1(%[[D1:.*]]: memref<6xi64>, %[[CNT:.*]]: memref<i64>
// CHECK: %[[V:.*]] = memref.load %[[CNT]][]
// CHECK: %[[C:.*]] = arith.index_cast %[[V]] : i64 to index
// CHECK: %[[M:.*]] = arith.minui %[[C]], %{{.*}} : index
// CHECK: %[[M64:.*]] = arith.index_cast %[[M]] : index to i64
// CHECK: memref.store %[[M64]], %[[D1]][%c1]
// CHECK: func.func @kiln_dispatch_2(
// CHECK: memref.load %{{.*}}[%c1{{.*}}] : memref<6xi64>
// CHECK: arith.select
module attributes {kiln.symbols = 1 : i64, kiln.kernel_args = 1 : i64} {
  func.func @main(%in: memref<?xi64> {kiln.dims = array<i64: 0>}, %out: memref<?xi64>) -> index attributes {kiln.result_dims = [array<i64: 0>]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %rows = memref.dim %in, %c0 : memref<?xi64>
    %cnt = memref.alloc() {alignment = 64 : i64} : memref<i64>
    scf.parallel (%i) = (%c0) to (%c1) step (%c1) {
      %x = memref.load %in[%i] : memref<?xi64>
      memref.store %x, %cnt[] : memref<i64>
    }
    %v = memref.load %cnt[] : memref<i64>
    %n0 = arith.index_cast %v : i64 to index
    %n = arith.minui %n0, %rows {kiln.data_size} : index
    %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?xi64>
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %x = memref.load %in[%i] : memref<?xi64>
      memref.store %x, %a[%i] : memref<?xi64>
    }
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %x = memref.load %a[%i] : memref<?xi64>
      memref.store %x, %out[%i] : memref<?xi64>
    }
    memref.dealloc %a : memref<?xi64>
    memref.dealloc %cnt : memref<i64>
    return %n : index
  }
}
