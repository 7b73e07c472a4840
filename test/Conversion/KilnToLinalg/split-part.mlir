// RUN: kiln-opt %s --kiln-to-linalg=strict | FileCheck %s

// A part of a Split with run-time sizes (exact_bounds, reaches_end): its
// start and end are checked to lie in order inside the dim, and the last
// part's end to be the dim, instead of being clamped as ONNX Slice bounds.
// CHECK-LABEL: func.func @split_part
// CHECK: cf.assert %{{.*}}, "'kiln.slice': a split size below 0, or sizes past the dim (split sizes must be non-negative and add up to the dim)"
// CHECK: cf.assert %{{.*}}, "'kiln.slice': the split sizes do not add up to the dim they split"
// CHECK: linalg.generic
func.func @split_part(%x: tensor<7x2xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>) -> tensor<?x?xf32> {
  %0 = kiln.slice %x runtime(%s, %e : tensor<1xi64>, tensor<1xi64>) starts = [] ends = [] steps = [] {exact_bounds, reaches_end} : tensor<7x2xf32>
  return %0 : tensor<?x?xf32>
}
