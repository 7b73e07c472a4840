// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// torch.export's nn.Linear: Gemm(x, W [out, in], transB) becomes a matmul
// with the transposed weight (bound as a weight view when compiled).
// CHECK-LABEL: func.func @gemm_linear
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %arg1 perm = [1, 0] : tensor<16x8xf32>
// CHECK-NEXT: %[[M:.*]] = kiln.matmul %arg0, %[[T]] : tensor<4x8xf32>, tensor<8x16xf32>
// CHECK-NEXT: return %[[M]]
func.func @gemm_linear(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %y = kiln.gemm %x, %w {trans_b} : tensor<4x8xf32>, tensor<16x8xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A Gemm with a bias or a scale is not a bare linear layer: it stays.
// CHECK-LABEL: func.func @gemm_bias_scale
// CHECK-NEXT: kiln.gemm %arg0, %arg1, %arg2 {trans_b}
// CHECK-NEXT: kiln.gemm %arg0, %arg1 {alpha = 5.000000e-01 : f32, trans_b}
// CHECK-NOT: kiln.matmul
func.func @gemm_bias_scale(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %y = kiln.gemm %x, %w, %b {trans_b} : tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>
  %z = kiln.gemm %x, %w {alpha = 0.5 : f32, trans_b} : tensor<4x8xf32>, tensor<16x8xf32>
  return %y, %z : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// onnxscript's Kᵀ for scaled_dot_product_attention: K merged to [B*H, L,
// D], transposed [0, 2, 1], split to [B, H, D, L] is the 4-D transpose of
// K viewed [B, H, L, D].
// CHECK-LABEL: func.func @transpose_through_reshapes
// CHECK-NEXT: %[[R:.*]] = kiln.reshape %arg0 : tensor<1x2x3x16x8xf32> -> tensor<1x6x16x8xf32>
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %[[R]] perm = [0, 1, 3, 2] : tensor<1x6x16x8xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_through_reshapes(%k: tensor<1x2x3x16x8xf32>) -> tensor<1x6x8x16xf32> {
  %m = kiln.reshape %k : tensor<1x2x3x16x8xf32> -> tensor<6x16x8xf32>
  %t = kiln.transpose %m perm = [0, 2, 1] : tensor<6x16x8xf32>
  %s = kiln.reshape %t : tensor<6x8x16xf32> -> tensor<1x6x8x16xf32>
  return %s : tensor<1x6x8x16xf32>
}

// -----

// Look-alikes: the outer reshape regroups the swapped axes, or the
// transpose moves a leading axis: not a batched transpose; unchanged.
// CHECK-LABEL: func.func @not_batched_transpose
// CHECK: kiln.transpose %{{.*}} perm = [0, 2, 1] : tensor<6x16x8xf32>
// CHECK: kiln.transpose %{{.*}} perm = [1, 0, 2] : tensor<6x16x8xf32>
func.func @not_batched_transpose(%k: tensor<1x6x16x8xf32>) -> (tensor<1x6x4x32xf32>, tensor<1x16x6x8xf32>) {
  %m = kiln.reshape %k : tensor<1x6x16x8xf32> -> tensor<6x16x8xf32>
  %t = kiln.transpose %m perm = [0, 2, 1] : tensor<6x16x8xf32>
  %s = kiln.reshape %t : tensor<6x8x16xf32> -> tensor<1x6x4x32xf32>
  %t2 = kiln.transpose %m perm = [1, 0, 2] : tensor<6x16x8xf32>
  %s2 = kiln.reshape %t2 : tensor<16x6x8xf32> -> tensor<1x16x6x8xf32>
  return %s, %s2 : tensor<1x6x4x32xf32>, tensor<1x16x6x8xf32>
}
