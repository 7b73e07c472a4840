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

// -----

// Every softmax whose probabilities reach a matmul gets a reason.
func.func @probabilities_read_twice(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>) {
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  // expected-remark @below {{not fused: attention: the probabilities are also read by 'kiln.binary'}}
  %p = kiln.softmax %s axis = 3 : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  %twice = kiln.binary add %p, %p : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
  return %o, %twice : tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>
}

// -----

func.func @not_a_guard(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %one = arith.constant dense<1.0> : tensor<1xf32>
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x8x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>
  // expected-remark @below {{not fused: attention: between the softmax and the P·V product 'kiln.matmul' is something other than SDPA's NaN guard Where(IsNaN(p), 0, p)}}
  %p = kiln.softmax %s axis = 3 : tensor<1x2x8x8xf32>
  %nan = kiln.unary is_nan %p : tensor<1x2x8x8xf32>
  %g = kiln.where %nan, %one, %p : tensor<1x2x8x8xi1>, tensor<1xf32>, tensor<1x2x8x8xf32>
  %o = kiln.matmul %g, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// Every TopK over router scores gets a reason: over the tokens instead of
// the experts, and over scores rescaled before the selection.
func.func @topk_over_tokens(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>) -> tensor<2x4xi64> {
  %l = kiln.matmul %x, %w : tensor<8x4xf32>, tensor<4x4xf32>
  %p = kiln.softmax %l axis = -1 : tensor<8x4xf32>
  // expected-remark @below {{not fused: moe: the TopK over router scores is not over the last axis (the experts)}}
  %v, %i = kiln.topk %p k = 2 axis = 0 : tensor<8x4xf32>
  return %i : tensor<2x4xi64>
}

// -----

func.func @topk_over_rescaled_scores(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>) -> tensor<8x2xi64> {
  %c = arith.constant dense<2.0> : tensor<f32>
  %l = kiln.matmul %x, %w : tensor<8x4xf32>, tensor<4x4xf32>
  %p = kiln.softmax %l axis = -1 : tensor<8x4xf32>
  %s = kiln.binary mul %p, %c : tensor<8x4xf32>, tensor<f32>
  // expected-remark @below {{not fused: moe: the TopK's input is not a router's selection}}
  %v, %i = kiln.topk %s k = 2 axis = -1 : tensor<8x4xf32>
  return %i : tensor<8x2xi64>
}

// -----

// A dynamic mask dim the graph does not relate to the scores' could
// broadcast at run time: not raised (kernels take dynamic dims as whole).
func.func @attention_unrelated_mask_dim(%q: tensor<1x2x?x4xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                                        %k: tensor<1x2x?x4xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                                        %v: tensor<1x2x?x4xf32> {kiln.dim_names = ["b", "h", "s", "d"]},
                                        %mask: tensor<1x1x?x?xf32> {kiln.dim_names = ["b", "one", "s", "other"]})
    -> tensor<1x2x?x4xf32> {
  %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x2x?x4xf32>
  %s = kiln.matmul %q, %kt : tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32>
  %m = kiln.binary add %s, %mask : tensor<1x2x?x?xf32>, tensor<1x1x?x?xf32>
  // expected-remark @below {{not fused: attention: dim 3 of the mask is dynamic and not known to be the scores' size}}
  %p = kiln.softmax %m axis = -1 : tensor<1x2x?x?xf32>
  %o = kiln.matmul %p, %v : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}
