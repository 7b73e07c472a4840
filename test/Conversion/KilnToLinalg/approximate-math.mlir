// RUN: kiln-opt %s --kiln-approximate-math | FileCheck %s

// f32 transcendental functions become polynomial arithmetic (vectorizable);
// f64 keeps the library call.
// CHECK-LABEL: func.func @f32
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
// CHECK-LABEL: func.func @f64
// CHECK: math.exp
func.func @f32(%x: f32) -> f32 {
  %e = math.exp %x : f32
  %t = math.tanh %e : f32
  return %t : f32
}
func.func @f64(%x: f64) -> f64 {
  %e = math.exp %x : f64
  return %e : f64
}
