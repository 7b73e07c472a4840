//===- Passes.td - kiln fusion (raising) passes ------------*- tablegen -*-===//

#ifndef KILN_FUSION_PASSES_TD
#define KILN_FUSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnFuse : Pass<"kiln-fuse", "mlir::func::FuncOp"> {
  let summary = "Raise the subgraphs exporters write into fused kiln ops";
  let description = [{
    Pattern families, one per file, that find what exporters really emit
    and replace it with one fused op the targets implement directly.

    - `Normalize.cpp` runs first, as its own phase: idioms exporters write
      differently get one form. A Gemm that is a bare linear layer
      (torch.export's `nn.Linear`) becomes a matmul with the transposed
      weight; Kᵀ written through `[B*H, L, D]` reshapes (onnxscript's
      scaled dot-product attention) becomes a 4-D transpose.

    Before:
    ```mlir
    %y = kiln.gemm %x, %w {trans_b} : tensor<4x8xf32>, tensor<16x8xf32>
    ```
    After:
    ```mlir
    %t = kiln.transpose %w perm = [1, 0] : tensor<16x8xf32>
    %y = kiln.matmul %x, %t : tensor<4x8xf32>, tensor<8x16xf32>
    ```

    - `RmsNorm.cpp`: `x * rsqrt(mean(x^2) + eps) * w` in the forms torch and
      hand-written exports use (`Pow(x, 2)` or `x * x`; `Sqrt` then `Div`,
      `Reciprocal` or `Rsqrt`; the weight multiply present or not) becomes
      `kiln.rms_norm`.

    Before:
    ```mlir
    %sq = kiln.binary pow %x, %c2 : tensor<1x16x512xf32>, tensor<f32>
    %m = kiln.reduce mean %sq axes = [-1] keepdims : tensor<1x16x512xf32>
    %a = kiln.binary add %m, %eps : tensor<1x16x1xf32>, tensor<f32>
    %s = kiln.unary sqrt %a : tensor<1x16x1xf32>
    %r = kiln.binary div %one, %s : tensor<f32>, tensor<1x16x1xf32>
    %n = kiln.binary mul %x, %r : tensor<1x16x512xf32>, tensor<1x16x1xf32>
    %y = kiln.binary mul %n, %w : tensor<1x16x512xf32>, tensor<512xf32>
    ```
    After:
    ```mlir
    %y = kiln.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<1x16x512xf32>, tensor<512xf32>
    ```

    - `Attention.cpp`: `softmax(Q Kᵀ * scale + mask) V` (scale as Div or Mul
      on either side of the mask; K/V repeated for grouped-query attention
      by Expand, Tile or repeat_interleave read from the shared heads; a
      causal mask given or built in the graph becomes `causal`;
      `Concat(past, new)` K/V become `past(...)`; scores written as
      `Qa Kaᵀ + Qb Kbᵀ`, MLA's absorbed decode, concatenate the parts)
      becomes `kiln.attention`.

    Before:
    ```mlir
    %kt = kiln.transpose %k perm = [0, 1, 3, 2] : tensor<1x8x128x64xf32>
    %s = kiln.matmul %q, %kt : tensor<1x8x128x64xf32>, tensor<1x8x64x128xf32>
    %d = kiln.binary div %s, %c8 : tensor<1x8x128x128xf32>, tensor<f32>
    %m = kiln.binary add %d, %triangle : tensor<1x8x128x128xf32>, tensor<128x128xf32>
    %p = kiln.softmax %m axis = -1 : tensor<1x8x128x128xf32>
    %o = kiln.matmul %p, %v : tensor<1x8x128x128xf32>, tensor<1x8x128x64xf32>
    ```
    After:
    ```mlir
    %o = kiln.attention %q, %k, %v {causal, scale = 1.250000e-01 : f32} : ...
    ```

    - `Moe.cpp`: a router (softmax or sigmoid of `x · W`, DeepSeek-V3's
      bias and group limit), TopK, renormalized weights and E gated-MLP
      experts combined either dense-masked (`ReduceSum(w * (idx == e)) *
      expert_e(x)` summed) or sparse (NonZero token lists, Gather,
      ScatterElements back), plus shared experts, becomes `kiln.moe`.

    Before (dense, one of E terms):
    ```mlir
    %values, %indices = kiln.topk %probs k = 2 axis = -1 : tensor<128x8xf32>
    %is0 = kiln.compare eq %indices, %c0 : tensor<128x2xi64>, tensor<i64>
    %m0 = kiln.cast %is0 : tensor<128x2xi1> to tensor<128x2xf32>
    %w0 = kiln.binary mul %w, %m0 : tensor<128x2xf32>, tensor<128x2xf32>
    %s0 = kiln.reduce sum %w0 axes = [-1] keepdims : tensor<128x2xf32>
    %t0 = kiln.binary mul %s0, %expert0 : tensor<128x1xf32>, tensor<128x512xf32>
    ```
    After:
    ```mlir
    %y = kiln.moe %x router(%W : tensor<512x8xf32>) experts(%G, %U, %D : ...)
           {normalize, top_k = 2 : i64} : tensor<128x512xf32>
    ```

    - `MlaAbsorb.cpp`: MLA written naively over a latent cache (every
      head's K and V recomputed from the latent L by W each step) becomes
      the attention over L with W's key half folded into Q and its value
      half applied to the output, when that costs less (decode).

    Before / after (shapes elided):
    ```mlir
    %x = kiln.transpose (kiln.reshape (kiln.matmul %L, %W)) perm = [0, 2, 1, 3]
    %o = kiln.attention [%q_nope %q_rope], [%x[.., :dn] %k_rope], %x[.., dn:]
    // becomes
    %o = kiln.attention [%q_nope · W_UKᵀ  %q_rope], [%L  %k_rope], %L  // then · W_UV
    ```

    - `Rope.cpp`: `x * cos + rotate_half(x) * sin` (Slice, Neg, Concat)
      becomes `kiln.rope %x, %cos, %sin`; `GatedMlp.cpp`:
      `(SiLU(x · G) * (x · U)) · D` becomes `kiln.gated_mlp %x, %G, %U, %D`.

    A pattern that finds the start of a form but cannot complete it says why
    (`notifyMatchFailure`). With `report`, every fusion and every such near
    miss is emitted as a remark at the op's location (the ONNX node names):
    what `kiln compile --verbose` prints.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"report", "report", "bool", "false",
           "Emit a remark for each fusion and each near miss">
  ];
}

#endif // KILN_FUSION_PASSES_TD
