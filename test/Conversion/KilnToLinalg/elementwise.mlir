// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// Broadcasting lives in the indexing maps: %b ([3]) is read at (d1).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3xf32>)
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.binary add %a, %b : tensor<2x3xf32>, tensor<3xf32>
  return %0 : tensor<2x3xf32>
}

// A static 1 broadcast against a larger extent reads index 0.
// CHECK-LABEL: func.func @size_one
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
// CHECK: arith.mulf
func.func @size_one(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) -> tensor<2x3xf32> {
  %0 = kiln.binary mul %a, %b : tensor<2x3xf32>, tensor<2x1xf32>
  return %0 : tensor<2x3xf32>
}

// Dynamic extents come from an operand that is not broadcast there.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c0 : tensor<?x4xf32>
// CHECK: tensor.empty(%[[D]]) : tensor<?x4xf32>
// CHECK: math.tanh
func.func @dynamic(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = kiln.unary tanh %a : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// Integer mod takes the divisor's sign; compare and where on i1.
// CHECK-LABEL: func.func @integers
// CHECK: arith.remsi
// CHECK: arith.select
// CHECK: arith.cmpi slt
// CHECK: arith.select
func.func @integers(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %0 = kiln.binary mod %a, %b : tensor<4xi64>, tensor<4xi64>
  %1 = kiln.compare lt %a, %b : tensor<4xi64>, tensor<4xi64>
  %2 = kiln.where %1, %0, %b : tensor<4xi1>, tensor<4xi64>, tensor<4xi64>
  return %2 : tensor<4xi64>
}

// CHECK-LABEL: func.func @casts
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: arith.uitofp %{{.*}} : i1 to f16
func.func @casts(%a: tensor<3xf32>, %m: tensor<3xi1>) -> (tensor<3xi32>, tensor<3xf16>) {
  %0 = kiln.cast %a : tensor<3xf32> to tensor<3xi32>
  %1 = kiln.cast %m : tensor<3xi1> to tensor<3xf16>
  return %0, %1 : tensor<3xi32>, tensor<3xf16>
}

// -----

// Unsigned integers keep their tensor types; the body works on signless
// scalars (casts that vanish in the LLVM conversion) with unsigned
// operations: max, division, comparison, conversion.
// CHECK-LABEL: func.func @unsigned
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<4xui8>, tensor<4xui8>) outs(%{{.*}} : tensor<4xui8>)
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK: arith.maxui
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
// CHECK: arith.divui
// CHECK: arith.cmpi ult
// CHECK: arith.uitofp
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>) {
  %m = kiln.binary max %a, %b : tensor<4xui8>, tensor<4xui8>
  %d = kiln.binary div %a, %b : tensor<4xui8>, tensor<4xui8>
  %c = kiln.compare lt %a, %b : tensor<4xui8>, tensor<4xui8>
  %f = kiln.cast %a : tensor<4xui8> to tensor<4xf32>
  return %m, %d, %c, %f : tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>
}
