// RUN: kiln-opt %s -split-input-file --kiln-fuse=report -verify-diagnostics

// With `report`, a fusion is remarked at its last op and a near miss says
// why it stopped (what kiln compile --verbose prints; with ONNX node names
// as locations the fusion remark lists them: test/Fusion/verbose.test).
func.func @fused(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = kiln.binary mul %x, %x : tensor<4x32xf32>, tensor<4x32xf32>
  %1 = kiln.reduce mean %0 axes = [-1] keepdims : tensor<4x32xf32>
  %2 = kiln.binary add %1, %eps : tensor<4x1xf32>, tensor<f32>
  %3 = kiln.unary rsqrt %2 : tensor<4x1xf32>
  %4 = kiln.binary mul %x, %3 : tensor<4x32xf32>, tensor<4x1xf32>
  // expected-remark @below {{fused ops into 'kiln.rms_norm'}}
  %5 = kiln.binary mul %4, %w : tensor<4x32xf32>, tensor<32xf32>
  return %5 : tensor<4x32xf32>
}

// -----

func.func @leading_axis(%x: tensor<4x32xf32>) -> tensor<1x32xf32> {
  %0 = kiln.binary mul %x, %x : tensor<4x32xf32>, tensor<4x32xf32>
  // expected-remark @below {{not fused: rms_norm: the mean is not over trailing dimensions}}
  %1 = kiln.reduce mean %0 axes = [0] keepdims : tensor<4x32xf32>
  return %1 : tensor<1x32xf32>
}

// -----

func.func @runtime_eps(%x: tensor<4x32xf32>, %eps: tensor<f32>) -> tensor<4x1xf32> {
  %0 = kiln.binary mul %x, %x : tensor<4x32xf32>, tensor<4x32xf32>
  %1 = kiln.reduce mean %0 axes = [-1] keepdims : tensor<4x32xf32>
  // expected-remark @below {{not fused: rms_norm: epsilon is not a constant scalar}}
  %2 = kiln.binary add %1, %eps : tensor<4x1xf32>, tensor<f32>
  return %2 : tensor<4x1xf32>
}

// -----

func.func @attention_wrong_axis(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  // expected-remark @below {{not fused: attention: the softmax is not over the keys (last axis)}}
  %p = kiln.softmax %s axis = 2 : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @attention_split_mismatch(%ql: tensor<1x4x1x32xf32>, %qp: tensor<1x4x1x8xf32>, %lat: tensor<1x4x16x32xf32>,
                                    %pe: tensor<1x1x16x8xf32>) -> tensor<1x4x1x32xf32> {
  %lt = kiln.transpose %lat perm = [0, 1, 3, 2] : tensor<1x4x16x32xf32>
  %pt = kiln.transpose %pe perm = [0, 1, 3, 2] : tensor<1x1x16x8xf32>
  %a = kiln.matmul %ql, %lt : tensor<1x4x1x32xf32>, tensor<1x4x32x16xf32>
  %b = kiln.matmul %qp, %pt : tensor<1x4x1x8xf32>, tensor<1x1x8x16xf32>
  // expected-remark @below {{not fused: attention: the two score products' Q or K parts differ in batch, heads or length}}
  %s = kiln.binary add %a, %b : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
  %p = kiln.softmax %s axis = -1 : tensor<1x4x1x16xf32>
  %o = kiln.matmul %p, %lat : tensor<1x4x1x16xf32>, tensor<1x4x16x32xf32>
  return %o : tensor<1x4x1x32xf32>
}
