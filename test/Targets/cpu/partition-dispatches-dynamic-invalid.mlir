// RUN: kiln-opt %s -split-input-file --kiln-cpu-partition-dispatches -verify-diagnostics

// A dynamic argument needs its dims-vector layout (the compiler's
// prepareForCodegen writes it).
// expected-error@below {{@main has dynamic dims but no dims-vector layout}}
module {
  func.func @main(%in: memref<?xf32>, %out: memref<?xf32>) {
    return
  }
}

// -----

// A size computed from data (here: a value loaded from the input) cannot
// be known before the run.
module attributes {kiln.symbols = 1 : i64, kiln.kernel_args = 1 : i64} {
  func.func @main(%in: memref<?xindex> {kiln.dims = array<i64: 0>}, %out: memref<4xf32>) {
    %c0 = arith.constant 0 : index
    %n = memref.load %in[%c0] : memref<?xindex>
    // expected-error@below {{a buffer's size depends on data}}
    %a = memref.alloc(%n) : memref<?xf32>
    memref.dealloc %a : memref<?xf32>
    return
  }
}

// -----

// An output whose size @main does not return.
module attributes {kiln.symbols = 1 : i64, kiln.kernel_args = 1 : i64} {
  // expected-error@below {{output 0 has dynamic dims but @main does not return them}}
  func.func @main(%in: memref<?xf32> {kiln.dims = array<i64: 0>}, %out: memref<?xf32>) {
    return
  }
}
