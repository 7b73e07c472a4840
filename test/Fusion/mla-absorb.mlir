// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// MLA written naively over a latent cache: each step recomputes the 2
// heads' keys and values from the latent L [1, 16, 8] with kv_b
// [8, 2 * (4 + 4)], K = [K_nope  RoPE key broadcast], V the other half.
// One new token: the up-projection moves onto Q (W_UKᵀ) and the output
// (W_UV); the attention runs over the latent with one shared K/V head and
// keeps the original scale (1/sqrt(4 + 2)).
// CHECK-LABEL: func.func @naive_decode
// CHECK-DAG: %[[W3:.*]] = kiln.reshape %arg3 : tensor<8x16xf32> -> tensor<8x2x8xf32>
// CHECK-DAG: %[[UK:.*]] = kiln.slice %[[W3]] starts = [0, 0, 0] ends = [8, 2, 4]
// CHECK-DAG: %[[UKT:.*]] = kiln.transpose %[[UK]] perm = [1, 2, 0]
// CHECK-DAG: %[[QL:.*]] = kiln.matmul %arg0, %[[UKT]] : tensor<1x2x1x4xf32>, tensor<2x4x8xf32>
// CHECK-DAG: %[[Q:.*]] = kiln.concat %[[QL]], %arg1 axis = 3
// CHECK-DAG: %[[L4:.*]] = kiln.reshape %arg2 : tensor<1x16x8xf32> -> tensor<1x1x16x8xf32>
// CHECK-DAG: %[[K:.*]] = kiln.concat %[[L4]], %arg4 axis = 3
// CHECK-DAG: %[[UV:.*]] = kiln.slice %[[W3]] starts = [0, 0, 4] ends = [8, 2, 8]
// CHECK-DAG: %[[UVT:.*]] = kiln.transpose %[[UV]] perm = [1, 0, 2]
// CHECK: %[[O:.*]] = kiln.attention %[[Q]], %[[K]], %[[L4]] {scale = 0.408248276 : f32} : tensor<1x2x1x10xf32>, tensor<1x1x16x10xf32>, tensor<1x1x16x8xf32> -> tensor<1x2x1x8xf32>
// CHECK: %[[Y:.*]] = kiln.matmul %[[O]], %[[UVT]] : tensor<1x2x1x8xf32>, tensor<2x8x4xf32>
// CHECK: return %[[Y]]
func.func @naive_decode(%qn: tensor<1x2x1x4xf32>, %qr: tensor<1x2x1x2xf32>, %lat: tensor<1x16x8xf32>,
                        %w: tensor<8x16xf32>, %pe: tensor<1x1x16x2xf32>) -> tensor<1x2x1x4xf32> {
  %p = kiln.matmul %lat, %w : tensor<1x16x8xf32>, tensor<8x16xf32>
  %r = kiln.reshape %p : tensor<1x16x16xf32> -> tensor<1x16x2x8xf32>
  %x = kiln.transpose %r perm = [0, 2, 1, 3] : tensor<1x16x2x8xf32>
  %kn = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 2, 16, 4] steps = [1, 1, 1, 1] : tensor<1x2x16x8xf32>
  %v = kiln.slice %x starts = [0, 0, 0, 4] ends = [1, 2, 16, 8] steps = [1, 1, 1, 1] : tensor<1x2x16x8xf32>
  %kr = kiln.expand %pe : tensor<1x1x16x2xf32> -> tensor<1x2x16x2xf32>
  %k = kiln.concat %kn, %kr axis = 3 : tensor<1x2x16x4xf32>, tensor<1x2x16x2xf32>
  %q = kiln.concat %qn, %qr axis = 3 : tensor<1x2x1x4xf32>, tensor<1x2x1x2xf32>
  %o = kiln.attention %q, %k, %v : tensor<1x2x1x6xf32>, tensor<1x2x16x6xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x1x4xf32>
  return %o : tensor<1x2x1x4xf32>
}

// -----

// The same with as many queries as keys (prefill): absorbing would cost
// more than recomputing K and V, so the attention stays as written.
// CHECK-LABEL: func.func @naive_prefill
// CHECK: kiln.attention %{{.*}} : tensor<1x2x16x6xf32>, tensor<1x2x16x6xf32>, tensor<1x2x16x4xf32>
// CHECK-NOT: kiln.attention
func.func @naive_prefill(%qn: tensor<1x2x16x4xf32>, %qr: tensor<1x2x16x2xf32>, %lat: tensor<1x16x8xf32>,
                         %w: tensor<8x16xf32>, %pe: tensor<1x1x16x2xf32>) -> tensor<1x2x16x4xf32> {
  %p = kiln.matmul %lat, %w : tensor<1x16x8xf32>, tensor<8x16xf32>
  %r = kiln.reshape %p : tensor<1x16x16xf32> -> tensor<1x16x2x8xf32>
  %x = kiln.transpose %r perm = [0, 2, 1, 3] : tensor<1x16x2x8xf32>
  %kn = kiln.slice %x starts = [0, 0, 0, 0] ends = [1, 2, 16, 4] steps = [1, 1, 1, 1] : tensor<1x2x16x8xf32>
  %v = kiln.slice %x starts = [0, 0, 0, 4] ends = [1, 2, 16, 8] steps = [1, 1, 1, 1] : tensor<1x2x16x8xf32>
  %kr = kiln.expand %pe : tensor<1x1x16x2xf32> -> tensor<1x2x16x2xf32>
  %k = kiln.concat %kn, %kr axis = 3 : tensor<1x2x16x4xf32>, tensor<1x2x16x2xf32>
  %q = kiln.concat %qn, %qr axis = 3 : tensor<1x2x16x4xf32>, tensor<1x2x16x2xf32>
  %o = kiln.attention %q, %k, %v : tensor<1x2x16x6xf32>, tensor<1x2x16x6xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}
