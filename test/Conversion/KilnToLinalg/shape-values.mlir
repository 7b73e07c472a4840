// RUN: kiln-opt %s -split-input-file --kiln-to-linalg=strict | FileCheck %s

// Integer shape values become scalars: a size computed from a dim stays a
// function of it (no buffer in between).
// CHECK-LABEL: func.func @shape_ints
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[I:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: %[[M:.*]] = arith.muli %[[I]], %c2_i64
// CHECK: tensor.from_elements %[[M]], %c8_i64 : tensor<2xi64>
func.func @shape_ints(%x: tensor<?x4xf32>) -> tensor<2xi64> {
  %s = kiln.shape %x : tensor<?x4xf32>
  %two = arith.constant dense<2> : tensor<i64>
  %d = kiln.binary mul %s, %two : tensor<2xi64>, tensor<i64>
  return %d : tensor<2xi64>
}

// -----

// Float scalars too: a window length cast to float, then a float Range.
// Its count is the span in the element type divided in double (as
// onnxruntime), saturated before the conversion (NaN is none).
// CHECK-LABEL: func.func @window_length
// CHECK: %[[N:.*]] = tensor.extract %arg0[] : tensor<i32>
// CHECK: %[[F:.*]] = arith.sitofp %[[N]] : i32 to f32
// CHECK: %[[S:.*]] = arith.subf %[[F]], %cst
// CHECK: %[[W:.*]] = arith.extf %[[S]] : f32 to f64
// CHECK: %[[C:.*]] = math.ceil %{{.*}} : f64
// CHECK: %[[L:.*]] = arith.maxnumf %[[C]], %{{.*}} : f64
// CHECK: %[[H:.*]] = arith.minnumf %[[L]], %{{.*}} : f64
// CHECK: arith.fptosi %{{.*}} : f64 to i64
// CHECK: tensor.empty(%{{.*}}) : tensor<?xf32>
func.func @window_length(%n: tensor<i32>) -> tensor<?xf32> {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %f = kiln.cast %n : tensor<i32> to tensor<f32>
  %m = kiln.binary sub %f, %one : tensor<f32>, tensor<f32>
  %r = kiln.range %zero, %m, %one : tensor<f32>
  return %r : tensor<?xf32>
}

// -----

// Float comparisons are ordered, except `ne` (true for NaN); a float to an
// integer truncates toward zero, saturating, NaN to 0 (fptosi of either
// would be poison, and these values size buffers).
// CHECK-LABEL: func.func @float_compare
// CHECK: arith.cmpf une
// CHECK: arith.cmpf olt
// CHECK: %[[A:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: %[[LO:.*]] = arith.maxnumf %[[A]], %{{.*}} : f32
// CHECK: %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[A]], %[[A]] : f32
// CHECK: %[[X:.*]] = arith.select %[[NAN]], %{{.*}}, %[[HI]] : f32
// CHECK: arith.fptosi %[[X]] : f32 to i64
func.func @float_compare(%a: tensor<f32>, %b: tensor<f32>) -> (tensor<i1>, tensor<i1>, tensor<i64>) {
  %ne = kiln.compare ne %a, %b : tensor<f32>, tensor<f32>
  %lt = kiln.compare lt %a, %b : tensor<f32>, tensor<f32>
  %i = kiln.cast %a : tensor<f32> to tensor<i64>
  return %ne, %lt, %i : tensor<i1>, tensor<i1>, tensor<i64>
}
