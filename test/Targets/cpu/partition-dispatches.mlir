// RUN: kiln-opt %s -split-input-file --kiln-cpu-partition-dispatches | FileCheck %s

// Four loops over three intermediates: each loop is a dispatch whose grid is
// its first parallel dimension; %c reuses %a's bytes (their live ranges do
// not meet), so the arena is 256 bytes for 384 of intermediates.
// CHECK: module attributes {kiln.arena_bytes = 256 : i64, kiln.intermediate_bytes = 384 : i64, kiln.plan = [
// CHECK-SAME: {bindings = array<i64: 0, 0, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_0", workgroups = 4 : i64}
// CHECK-SAME: {bindings = array<i64: 1, 0, 1, 128>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_1", workgroups = 4 : i64}
// CHECK-SAME: {bindings = array<i64: 1, 128, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_2", workgroups = 4 : i64}
// CHECK-SAME: {bindings = array<i64: 0, 1, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_3", workgroups = 1 : i64}
// CHECK: func.func @kiln_dispatch_0(%[[IN:.*]]: memref<4x8xf32>, %[[A:.*]]: memref<4x8xf32>, %[[FIRST:.*]]: index, %[[LAST:.*]]: index)
// CHECK: %[[LB:.*]] = arith.addi %c0, {{.*}}
// CHECK: %[[UB:.*]] = arith.minsi %c4
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%[[LB]], %c0) to (%[[UB]], %c8)
// CHECK: func.func @kiln_dispatch_3
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK-NOT: func.func @main
func.func @main(%in: memref<4x8xf32>, %out: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<4x8xf32>
    memref.store %x, %a[%i, %j] : memref<4x8xf32>
  }
  %b = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<4x8xf32>
    memref.store %x, %b[%i, %j] : memref<4x8xf32>
  }
  memref.dealloc %a : memref<4x8xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %b[%i, %j] : memref<4x8xf32>
    memref.store %x, %c[%i, %j] : memref<4x8xf32>
  }
  memref.dealloc %b : memref<4x8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %x = memref.load %c[%i, %j] : memref<4x8xf32>
      memref.store %x, %out[%i, %j] : memref<4x8xf32>
    }
  }
  memref.dealloc %c : memref<4x8xf32>
  return
}

// -----

// A scalar crosses top-level ops (a one-row kernel whose loops were
// canonicalized away leaves its code at the top level): the op making it
// and its users share one dispatch, run in order on one workgroup; the
// ops before and after keep their own dispatches and grids.
// CHECK: module attributes {kiln.arena_bytes = 64 : i64, kiln.intermediate_bytes = 64 : i64, kiln.plan = [
// CHECK-SAME: {bindings = array<i64: 0, 0, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_0", workgroups = 4 : i64}
// CHECK-SAME: {bindings = array<i64: 0, 1, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_1", workgroups = 1 : i64}
// CHECK-SAME: {bindings = array<i64: 0, 1, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_2", workgroups = 4 : i64}
// CHECK: func.func @kiln_dispatch_1(%{{.*}}: memref<4xf32>, %[[A:.*]]: memref<4xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK: %[[S:.*]] = memref.load %[[A]][%c0]
// CHECK: %[[T:.*]] = arith.addf %[[S]], %[[S]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c4)
// CHECK: memref.store %[[T]]
func.func @main(%in: memref<4xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %x = memref.load %in[%i] : memref<4xf32>
    memref.store %x, %a[%i] : memref<4xf32>
  }
  %s = memref.load %a[%c0] : memref<4xf32>
  %t = arith.addf %s, %s : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %t, %out[%i] : memref<4xf32>
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %x = memref.load %a[%i] : memref<4xf32>
    %y = memref.load %out[%i] : memref<4xf32>
    %z = arith.addf %x, %y : f32
    memref.store %z, %out[%i] : memref<4xf32>
  }
  memref.dealloc %a : memref<4xf32>
  return
}


// -----

// Scratch that one dispatch fills and the next reads (a fused kernel whose
// one-workgroup grid was folded away) moves to the arena; scratch used by
// one dispatch stays a stack alloca re-created in it.
// CHECK: module attributes {kiln.arena_bytes = 64 : i64, kiln.intermediate_bytes = 64 : i64
// CHECK-SAME: {bindings = array<i64: 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_0"
// CHECK-SAME: {bindings = array<i64: 0, 0, 1, 0>, buffer_bytes = array<i64: {{[0-9, ]+}}>, entry = "kiln_dispatch_1"
// CHECK: func.func @kiln_dispatch_0
// CHECK-NOT: memref.alloca() : memref<16xf32>
// CHECK: func.func @kiln_dispatch_1
// CHECK: memref.alloca() : memref<8xf32>
func.func @main(%out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %cst = arith.constant 1.0 : f32
  %state = memref.alloca() : memref<16xf32>
  %tmp = memref.alloca() : memref<8xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    memref.store %cst, %state[%i] : memref<16xf32>
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %state[%i] : memref<16xf32>
    memref.store %x, %tmp[%c0] : memref<8xf32>
    memref.store %x, %out[%i] : memref<16xf32>
  }
  return
}
