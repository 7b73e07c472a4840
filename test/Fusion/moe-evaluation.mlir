// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s
// RUN: kiln-opt %s -split-input-file --kiln-fuse=report 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT

// A MoE layer in transformers 5's `batched_mm` form (the stacked
// [E, 2I, H] gate_up and [E, H, I] down weights gathered at each token's
// routed experts, a batched product, the fused gate_up split in halves,
// weighted and summed over k). No pattern spells it out: the layer output
// is found where everything computed from the TopK meets, and the kiln.moe
// reading of the stacked weights that evaluates equal to the layer on
// random tokens replaces it (MoeByEvaluation.cpp). The experts are views
// of the stacked weights (here constants, so the views fold): the halves
// transposed to [E, H, I], down to [E, I, H].
// CHECK-LABEL: func.func @batched_mm
// CHECK: %[[R:.*]] = arith.constant dense<{{.*}}> : tensor<4x4xf32>
// CHECK: %[[O:.*]] = kiln.moe %arg0 router(%[[R]] : tensor<4x4xf32>) experts(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4x2xf32>, tensor<4x4x2xf32>, tensor<4x2x4xf32>) {normalize, top_k = 2 : i64}
// CHECK-NEXT: return %[[O]]
// REPORT: remark: fused ops into 'kiln.moe'

// A look-alike: each token's down projection read from expert E-1-e
// instead of e. Every reading of the weights evaluates differently from
// the layer, so it stays as written.
// CHECK-LABEL: func.func @other_down
// CHECK-NOT: kiln.moe
// REPORT: remark: not fused: moe: no kiln.moe reading of its 2 stacked weights (8 tried) evaluates equal to the layer
func.func @batched_mm(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %router = arith.constant dense<[[0.0629, -0.0661, 0.3202, 0.0525], [-0.2678, 0.1808, 0.6520, 0.4735], [-0.3519, -0.6327, -0.3116, 0.0207], [-1.1625, -0.1094, -0.6230, -0.3661]]> : tensor<4x4xf32>
  %gate_up = arith.constant dense<[[[-0.2721, -0.1582, 0.2058, 0.5213],  [-0.0643, 0.6832, -0.3326, 0.1758],  [0.4517, 0.0470, -0.3717, -0.4609],  [-0.2289, 0.1101, -0.5048, -0.1046]], [[-0.0796, 0.2704, 0.1073, 0.1777],  [-0.3269, -0.0648, 0.3920, 0.7467],  [-0.6295, 0.7570, 0.6729, 0.3907],  [0.1322, -0.1570, 0.7290, 0.9801]], [[0.9008, 0.6576, 0.1787, -0.6042],  [-0.0022, 0.3282, -0.6442, 0.1976],  [0.2149, 0.3480, -0.5921, -0.3309],  [-0.2182, -0.5849, 0.8697, -0.2480]], [[0.1645, -0.1293, 0.7917, 0.6602],  [0.3167, -1.1018, 0.0260, 0.3418],  [0.5020, -0.3090, 0.9110, -0.6602],  [-0.3308, 0.4675, 0.0245, 1.0012]]]> : tensor<4x4x4xf32>
  %down = arith.constant dense<[[[0.0943, -0.3166],  [-0.1888, -0.5456],  [-0.6388, 0.3152],  [0.2906, 0.6473]], [[-0.3773, 0.8446],  [-0.1437, 0.7872],  [-0.2164, -0.3677],  [0.1249, 0.5157]], [[0.0805, -0.2928],  [-0.6706, -0.7008],  [0.2513, 0.4949],  [-0.0821, -0.5372]], [[0.4365, -0.6402],  [-0.3565, 0.3105],  [-1.1251, 0.1932],  [-0.2908, 0.0546]]]> : tensor<4x4x2xf32>
  %logits = kiln.matmul %x, %router : tensor<3x4xf32>, tensor<4x4xf32>
  %probs = kiln.softmax %logits axis = 1 : tensor<3x4xf32>
  %vals, %idx = kiln.topk %probs k = 2 axis = -1 : tensor<3x4xf32>
  %sum = kiln.reduce sum %vals axes = [-1] keepdims : tensor<3x2xf32>
  %w = kiln.binary div %vals, %sum : tensor<3x2xf32>, tensor<3x1xf32>
  %x3 = kiln.reshape %x : tensor<3x4xf32> -> tensor<3x1x4xf32>
  %xe = kiln.expand %x3 : tensor<3x1x4xf32> -> tensor<3x2x4xf32>
  %flat = kiln.reshape %idx : tensor<3x2xi64> -> tensor<6x1xi64>
  %g = kiln.gather_nd %gate_up[%flat] : tensor<4x4x4xf32>, tensor<6x1xi64>
  %xc = kiln.reshape %xe : tensor<3x2x4xf32> -> tensor<6x4x1xf32>
  %h = kiln.matmul %g, %xc : tensor<6x4x4xf32>, tensor<6x4x1xf32>
  %h2 = kiln.reshape %h : tensor<6x4x1xf32> -> tensor<6x4xf32>
  %gate = kiln.slice %h2 starts = [0, 0] ends = [6, 2] steps = [1, 1] : tensor<6x4xf32>
  %up = kiln.slice %h2 starts = [0, 2] ends = [6, 4] steps = [1, 1] : tensor<6x4xf32>
  %sig = kiln.unary sigmoid %gate : tensor<6x2xf32>
  %silu = kiln.binary mul %gate, %sig : tensor<6x2xf32>, tensor<6x2xf32>
  %a = kiln.binary mul %silu, %up : tensor<6x2xf32>, tensor<6x2xf32>
  
  %d = kiln.gather_nd %down[%flat] : tensor<4x4x2xf32>, tensor<6x1xi64>
  %a3 = kiln.reshape %a : tensor<6x2xf32> -> tensor<6x2x1xf32>
  %y = kiln.matmul %d, %a3 : tensor<6x4x2xf32>, tensor<6x2x1xf32>
  %y2 = kiln.reshape %y : tensor<6x4x1xf32> -> tensor<6x4xf32>
  %wf = kiln.reshape %w : tensor<3x2xf32> -> tensor<6x1xf32>
  %yw = kiln.binary mul %y2, %wf : tensor<6x4xf32>, tensor<6x1xf32>
  %y3 = kiln.reshape %yw : tensor<6x4xf32> -> tensor<3x2x4xf32>
  %out = kiln.reduce sum %y3 axes = [1] : tensor<3x2x4xf32>
  return %out : tensor<3x4xf32>
}

// -----

func.func @other_down(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %router = arith.constant dense<[[0.0629, -0.0661, 0.3202, 0.0525], [-0.2678, 0.1808, 0.6520, 0.4735], [-0.3519, -0.6327, -0.3116, 0.0207], [-1.1625, -0.1094, -0.6230, -0.3661]]> : tensor<4x4xf32>
  %gate_up = arith.constant dense<[[[-0.2721, -0.1582, 0.2058, 0.5213],  [-0.0643, 0.6832, -0.3326, 0.1758],  [0.4517, 0.0470, -0.3717, -0.4609],  [-0.2289, 0.1101, -0.5048, -0.1046]], [[-0.0796, 0.2704, 0.1073, 0.1777],  [-0.3269, -0.0648, 0.3920, 0.7467],  [-0.6295, 0.7570, 0.6729, 0.3907],  [0.1322, -0.1570, 0.7290, 0.9801]], [[0.9008, 0.6576, 0.1787, -0.6042],  [-0.0022, 0.3282, -0.6442, 0.1976],  [0.2149, 0.3480, -0.5921, -0.3309],  [-0.2182, -0.5849, 0.8697, -0.2480]], [[0.1645, -0.1293, 0.7917, 0.6602],  [0.3167, -1.1018, 0.0260, 0.3418],  [0.5020, -0.3090, 0.9110, -0.6602],  [-0.3308, 0.4675, 0.0245, 1.0012]]]> : tensor<4x4x4xf32>
  %down = arith.constant dense<[[[0.0943, -0.3166],  [-0.1888, -0.5456],  [-0.6388, 0.3152],  [0.2906, 0.6473]], [[-0.3773, 0.8446],  [-0.1437, 0.7872],  [-0.2164, -0.3677],  [0.1249, 0.5157]], [[0.0805, -0.2928],  [-0.6706, -0.7008],  [0.2513, 0.4949],  [-0.0821, -0.5372]], [[0.4365, -0.6402],  [-0.3565, 0.3105],  [-1.1251, 0.1932],  [-0.2908, 0.0546]]]> : tensor<4x4x2xf32>
  %logits = kiln.matmul %x, %router : tensor<3x4xf32>, tensor<4x4xf32>
  %probs = kiln.softmax %logits axis = 1 : tensor<3x4xf32>
  %vals, %idx = kiln.topk %probs k = 2 axis = -1 : tensor<3x4xf32>
  %sum = kiln.reduce sum %vals axes = [-1] keepdims : tensor<3x2xf32>
  %w = kiln.binary div %vals, %sum : tensor<3x2xf32>, tensor<3x1xf32>
  %x3 = kiln.reshape %x : tensor<3x4xf32> -> tensor<3x1x4xf32>
  %xe = kiln.expand %x3 : tensor<3x1x4xf32> -> tensor<3x2x4xf32>
  %flat = kiln.reshape %idx : tensor<3x2xi64> -> tensor<6x1xi64>
  %g = kiln.gather_nd %gate_up[%flat] : tensor<4x4x4xf32>, tensor<6x1xi64>
  %xc = kiln.reshape %xe : tensor<3x2x4xf32> -> tensor<6x4x1xf32>
  %h = kiln.matmul %g, %xc : tensor<6x4x4xf32>, tensor<6x4x1xf32>
  %h2 = kiln.reshape %h : tensor<6x4x1xf32> -> tensor<6x4xf32>
  %gate = kiln.slice %h2 starts = [0, 0] ends = [6, 2] steps = [1, 1] : tensor<6x4xf32>
  %up = kiln.slice %h2 starts = [0, 2] ends = [6, 4] steps = [1, 1] : tensor<6x4xf32>
  %sig = kiln.unary sigmoid %gate : tensor<6x2xf32>
  %silu = kiln.binary mul %gate, %sig : tensor<6x2xf32>, tensor<6x2xf32>
  %a = kiln.binary mul %silu, %up : tensor<6x2xf32>, tensor<6x2xf32>
  %last = arith.constant dense<3> : tensor<i64>
  %didx = kiln.binary sub %last, %flat : tensor<i64>, tensor<6x1xi64>
  %d = kiln.gather_nd %down[%didx] : tensor<4x4x2xf32>, tensor<6x1xi64>
  %a3 = kiln.reshape %a : tensor<6x2xf32> -> tensor<6x2x1xf32>
  %y = kiln.matmul %d, %a3 : tensor<6x4x2xf32>, tensor<6x2x1xf32>
  %y2 = kiln.reshape %y : tensor<6x4x1xf32> -> tensor<6x4xf32>
  %wf = kiln.reshape %w : tensor<3x2xf32> -> tensor<6x1xf32>
  %yw = kiln.binary mul %y2, %wf : tensor<6x4xf32>, tensor<6x1xf32>
  %y3 = kiln.reshape %yw : tensor<6x4xf32> -> tensor<3x2x4xf32>
  %out = kiln.reduce sum %y3 axes = [1] : tensor<3x2x4xf32>
  return %out : tensor<3x4xf32>
}

// -----

// The same layer with a dynamic token count ([batch, seq, H] flattened):
// the layer output is found by evaluating at 2 x 5 tokens, the proof
// runs there, and kiln.moe keeps the dynamic rows.
// CHECK-LABEL: func.func @batched_mm_dynamic
// CHECK: %[[X:.*]] = kiln.reshape %arg0 : tensor<?x?x4xf32> -> tensor<?x4xf32>
// CHECK: %[[O:.*]] = kiln.moe %[[X]] router({{.*}}) {normalize, top_k = 2 : i64} : tensor<?x4xf32>
// CHECK: %[[R:.*]] = kiln.reshape %[[O]] shape
// CHECK-NEXT: return %[[R]]
// REPORT: remark: fused ops into 'kiln.moe'

func.func @batched_mm_dynamic(%xs: tensor<?x?x4xf32> {kiln.dim_names = ["batch", "seq", ""]}, %ids: tensor<?x?xi64> {kiln.dim_names = ["batch", "seq"]}) -> tensor<?x?x4xf32> {
  %x = kiln.reshape %xs : tensor<?x?x4xf32> -> tensor<?x4xf32>
  %router = arith.constant dense<[[0.0629, -0.0661, 0.3202, 0.0525], [-0.2678, 0.1808, 0.6520, 0.4735], [-0.3519, -0.6327, -0.3116, 0.0207], [-1.1625, -0.1094, -0.6230, -0.3661]]> : tensor<4x4xf32>
  %gate_up = arith.constant dense<[[[-0.2721, -0.1582, 0.2058, 0.5213],  [-0.0643, 0.6832, -0.3326, 0.1758],  [0.4517, 0.0470, -0.3717, -0.4609],  [-0.2289, 0.1101, -0.5048, -0.1046]], [[-0.0796, 0.2704, 0.1073, 0.1777],  [-0.3269, -0.0648, 0.3920, 0.7467],  [-0.6295, 0.7570, 0.6729, 0.3907],  [0.1322, -0.1570, 0.7290, 0.9801]], [[0.9008, 0.6576, 0.1787, -0.6042],  [-0.0022, 0.3282, -0.6442, 0.1976],  [0.2149, 0.3480, -0.5921, -0.3309],  [-0.2182, -0.5849, 0.8697, -0.2480]], [[0.1645, -0.1293, 0.7917, 0.6602],  [0.3167, -1.1018, 0.0260, 0.3418],  [0.5020, -0.3090, 0.9110, -0.6602],  [-0.3308, 0.4675, 0.0245, 1.0012]]]> : tensor<4x4x4xf32>
  %down = arith.constant dense<[[[0.0943, -0.3166],  [-0.1888, -0.5456],  [-0.6388, 0.3152],  [0.2906, 0.6473]], [[-0.3773, 0.8446],  [-0.1437, 0.7872],  [-0.2164, -0.3677],  [0.1249, 0.5157]], [[0.0805, -0.2928],  [-0.6706, -0.7008],  [0.2513, 0.4949],  [-0.0821, -0.5372]], [[0.4365, -0.6402],  [-0.3565, 0.3105],  [-1.1251, 0.1932],  [-0.2908, 0.0546]]]> : tensor<4x4x2xf32>
  %logits = kiln.matmul %x, %router : tensor<?x4xf32>, tensor<4x4xf32>
  %probs = kiln.softmax %logits axis = 1 : tensor<?x4xf32>
  %vals, %idx = kiln.topk %probs k = 2 axis = -1 : tensor<?x4xf32>
  %sum = kiln.reduce sum %vals axes = [-1] keepdims : tensor<?x2xf32>
  %w = kiln.binary div %vals, %sum : tensor<?x2xf32>, tensor<?x1xf32>
  %x3 = kiln.reshape %x : tensor<?x4xf32> -> tensor<?x1x4xf32>
  %xe = kiln.expand %x3 : tensor<?x1x4xf32> -> tensor<?x2x4xf32>
  %flat = kiln.reshape %idx : tensor<?x2xi64> -> tensor<?x1xi64>
  %g = kiln.gather_nd %gate_up[%flat] : tensor<4x4x4xf32>, tensor<?x1xi64>
  %xc = kiln.reshape %xe : tensor<?x2x4xf32> -> tensor<?x4x1xf32>
  %h = kiln.matmul %g, %xc : tensor<?x4x4xf32>, tensor<?x4x1xf32>
  %h2 = kiln.reshape %h : tensor<?x4x1xf32> -> tensor<?x4xf32>
  %gate = kiln.slice %h2 starts = [0, 0] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x4xf32>
  %up = kiln.slice %h2 starts = [0, 2] ends = [9223372036854775807, 4] steps = [1, 1] : tensor<?x4xf32>
  %sig = kiln.unary sigmoid %gate : tensor<?x2xf32>
  %silu = kiln.binary mul %gate, %sig : tensor<?x2xf32>, tensor<?x2xf32>
  %a = kiln.binary mul %silu, %up : tensor<?x2xf32>, tensor<?x2xf32>
  
  %d = kiln.gather_nd %down[%flat] : tensor<4x4x2xf32>, tensor<?x1xi64>
  %a3 = kiln.reshape %a : tensor<?x2xf32> -> tensor<?x2x1xf32>
  %y = kiln.matmul %d, %a3 : tensor<?x4x2xf32>, tensor<?x2x1xf32>
  %y2 = kiln.reshape %y : tensor<?x4x1xf32> -> tensor<?x4xf32>
  %wf = kiln.reshape %w : tensor<?x2xf32> -> tensor<?x1xf32>
  %yw = kiln.binary mul %y2, %wf : tensor<?x4xf32>, tensor<?x1xf32>
  %y3 = kiln.reshape %yw : tensor<?x4xf32> -> tensor<?x2x4xf32>
  %out = kiln.reduce sum %y3 axes = [1] : tensor<?x2x4xf32>
  // Back to [batch, seq, H] with sizes read from the ids' shape (what
  // torch.export writes): not a value the tokens decide; evaluated from
  // the dims the ids share with the tokens (their dim names).
  %shape = kiln.shape %ids : tensor<?x?xi64>
  %width = arith.constant dense<4> : tensor<1xi64>
  %target = kiln.concat %shape, %width axis = 0 : tensor<2xi64>, tensor<1xi64>
  %out3 = kiln.reshape %out shape %target : tensor<3xi64> : tensor<?x4xf32> -> tensor<?x?x4xf32>
  return %out3 : tensor<?x?x4xf32>
}
