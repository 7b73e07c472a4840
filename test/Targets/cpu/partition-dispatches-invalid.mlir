// RUN: kiln-opt %s --kiln-cpu-partition-dispatches -verify-diagnostics

// The pass partitions the model's entry; a module without one is an error.
// expected-error@below {{kiln-cpu-partition-dispatches needs a single-block @main}}
module {
  func.func @other() {
    return
  }
}
