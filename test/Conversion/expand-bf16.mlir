// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-expand-bf16))' | FileCheck %s

// bf16 truncation (round to nearest even on the f32 bits) and extension (a
// shift) become integer arithmetic: no __truncsfbf2 call in the kernel.
// CHECK-LABEL: func.func @round_trip
// CHECK-NOT: arith.truncf
// CHECK-NOT: arith.extf
// CHECK: arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.shrui
// CHECK: arith.bitcast %{{.*}} : vector<8xi16> to vector<8xbf16>
func.func @round_trip(%x: vector<8xf32>, %h: vector<8xbf16>) -> (vector<8xbf16>, vector<8xf32>) {
  %t = arith.truncf %x : vector<8xf32> to vector<8xbf16>
  %e = arith.extf %h : vector<8xbf16> to vector<8xf32>
  return %t, %e : vector<8xbf16>, vector<8xf32>
}

// Other float conversions are left alone.
// CHECK-LABEL: func.func @half
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @half(%x: f32) -> f16 {
  %t = arith.truncf %x : f32 to f16
  return %t : f16
}
