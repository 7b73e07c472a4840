//===- Passes.td - kiln fusion (raising) passes ------------*- tablegen -*-===//

#ifndef KILN_FUSION_PASSES_TD
#define KILN_FUSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnFuse : Pass<"kiln-fuse", "mlir::func::FuncOp"> {
  let summary = "Raise the subgraphs exporters write into fused kiln ops";
  let description = [{
    Pattern families, one per file, that find what exporters really emit
    and replace it with one fused op the targets implement directly:

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

    A pattern that finds the start of a form but cannot complete it says why
    (`notifyMatchFailure`). With `report`, every fusion and every such near
    miss is emitted as a remark at the op's location (the ONNX node names):
    what `kiln compile --verbose` prints.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"report", "report", "bool", "false",
           "Emit a remark for each fusion and each near miss">
  ];
}

#endif // KILN_FUSION_PASSES_TD
