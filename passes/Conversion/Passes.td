//===- Passes.td - kiln conversion passes ------------------*- tablegen -*-===//

#ifndef KILN_CONVERSION_PASSES_TD
#define KILN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnToLinalg : Pass<"kiln-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower kiln tensor ops to linalg, tensor, arith and math";
  let description = [{
    The first step of every target's code generation: graph-level kiln ops
    become destination-passing linalg ops on tensors (`linalg.generic` for
    elementwise math with broadcasting, `linalg.matmul`/`batch_matmul`,
    `linalg.reduce`, `linalg.softmax`, `linalg.transpose`) and tensor ops
    (`tensor.reshape`, `tensor.concat`, `tensor.extract_slice`), which
    upstream tiling, vectorization and bufferization then take over.

    Ops without a lowering yet are left in place; `strict` makes that an
    error at the op instead. Example:

    ```mlir
    %0 = kiln.binary add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    ```
    becomes a `linalg.generic` over a `tensor.empty() : tensor<2x3xf32>`
    whose indexing map for `%b` is `(d0, d1) -> (d1)` and whose body is
    `arith.addf`.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect"];
  let options = [
    Option<"strict", "strict", "bool", "false",
           "Fail on kiln ops that have no lowering">
  ];
}

def KilnCopiesToLinalg : Pass<"kiln-copies-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy";
  let description = [{
    After bufferization, copies between strided views would lower to calls
    of MLIR's `memrefCopy` runtime helper, which kernels cannot rely on.
    As `linalg.copy` they become loops like every other linalg op.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

#endif // KILN_CONVERSION_PASSES_TD
