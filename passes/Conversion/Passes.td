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
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::cf::ControlFlowDialect"];
  let options = [
    Option<"strict", "strict", "bool", "false",
           "Fail on kiln ops that have no lowering">
  ];
}

def KilnFuseElementwise : Pass<"kiln-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into consumers that read each element once";
  let description = [{
    Upstream's elementwise fusion (`linalg-fuse-elementwise-ops` patterns,
    reshape propagation by expansion, constant folding) with one rule
    added: a producer fuses into a consumer only when the consumer's
    indexing map for it is a permutation, so every produced element is
    computed once. Upstream's default also fuses into contractions, which
    recomputes the producer once per element of the other operand: a SiLU
    gate fused into the down projection of a gated MLP evaluates `exp`
    N times per element and hides the matmul from the CPU micro-kernel.

    ```mlir
    %g = linalg.generic ... { silu }          // [128, 1376]
    %y = linalg.matmul ins(%g, %w ...)        // stays a matmul
    %z = linalg.generic ins(%y) { add bias }  // fuses: identity map
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
}

def KilnApproximateMath : Pass<"kiln-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Expand f32 exp, tanh, erf, log, sin/cos, ... into polynomials";
  let description = [{
    Upstream's math polynomial approximations (and the f32 expansions they
    build on) so elementwise loops hold plain arithmetic the LLVM loop
    vectorizer turns into SIMD code, instead of one libm call per element.
    The approximations are accurate to a few ulp, well inside the ONNX
    conformance tolerance (rtol 1e-3).
  }];
  let dependentDialects = ["mlir::math::MathDialect", "mlir::arith::ArithDialect",
                           "mlir::vector::VectorDialect"];
}

def KilnExpandBFloat16 : Pass<"kiln-expand-bf16", "mlir::func::FuncOp"> {
  let summary = "bf16 extensions and truncations as integer arithmetic";
  let description = [{
    Upstream's bf16 expansion patterns only (`arith-expand{include-bf16}`
    also rewrites min/max and divisions): `arith.truncf` to bf16 becomes
    round-to-nearest-even on the f32 bits and `arith.extf` from bf16 a
    shift. Without it LLVM calls compiler-rt's `__truncsfbf2` on CPUs with
    no bf16 conversion instruction (AVX2, AVX-512 without BF16), a symbol the
    kernel's shared object does not carry.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::vector::VectorDialect"];
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

def KilnShapeChecks : Pass<"kiln-shape-checks", "mlir::func::FuncOp"> {
  let summary = "Assert at run time the size equalities ops on dynamic buffers rely on";
  let description = [{
    Run after bufferization, before linalg ops become loops. Code
    generation takes the sizes an op relates to agree: the dims of two
    operands a linalg op maps to one loop (an Add's operands, a matmul's
    reduced dim), a cast's dynamic dim and the static size it is cast to,
    an expand_shape group and the dim it splits, a subview and the buffer it
    views. With dims only known per run, inputs that break one would make a
    kernel read or write past a buffer. For each relation involving a
    dynamic size, this pass writes a `cf.assert` before the op (top-level
    ops of the function only: what later kernels build inside loops is
    consistent by construction). The message names the ONNX node and holds
    `{0}` and `{1}` where the runtime puts the two sizes; the CPU target
    turns asserts over input dims into checks its shape function makes
    before a run (`kiln_shapes`) and drops the ones that depend on data.

    ```mlir
    linalg.generic ins(%a, %b : memref<?xf32>, memref<?xf32>) ...
    // gets before it
    %0 = memref.dim %a, %c0 : memref<?xf32>
    %1 = memref.dim %b, %c0 : memref<?xf32>
    %2 = arith.cmpi eq, %0, %1 : index
    cf.assert %2, "node 'add' (Add) needs sizes {0} and {1} to be equal"
    ```
  }];
  let dependentDialects = ["mlir::cf::ControlFlowDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def KilnDistinctResults : Pass<"kiln-distinct-results", "mlir::func::FuncOp"> {
  let summary = "Give every buffer a function returns twice a copy of its own";
  let description = [{
    Run after bufferization, before `buffer-results-to-out-params`: each
    result of the kernel ABI becomes its own out-parameter, so a model that
    lists one value as two outputs (`Relu(x)` named twice) returns a fresh
    copy for every repeat.

    ```mlir
    return %a, %a : memref<4xf32>, memref<4xf32>
    // becomes
    %c = memref.alloc() : memref<4xf32>
    memref.copy %a, %c : memref<4xf32> to memref<4xf32>
    return %a, %c : memref<4xf32>, memref<4xf32>
    ```
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def KilnReturnResultDims : Pass<"kiln-return-result-dims", "mlir::func::FuncOp"> {
  let summary = "Return the dynamic dims of @main's results as index results";
  let description = [{
    Run on tensors, before bufferization: for each dynamic dim of each
    tensor `@main` returns, in order, the function also returns that size
    computed from its arguments' dims (`tensor.dim` of the result, resolved
    through the ops that made it). Once results have become out-parameters
    the runtime must still learn their shapes before a run:
    `kiln-cpu-partition-dispatches` turns these values into the output dims
    of the host's shape function; the function's `kiln.result_dims` lists
    which dims each tensor result returned. A function whose results are
    static is left alone.

    ```mlir
    %r = linalg.generic ... outs(%e : tensor<?x32xf32>)   // %e from dim(%arg0, 0)
    return %r : tensor<?x32xf32>
    // becomes
    %d = tensor.dim %arg0, %c0 : tensor<?x64xf32>
    return %r, %d : tensor<?x32xf32>, index
    ```
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect", "mlir::arith::ArithDialect"];
}

#endif // KILN_CONVERSION_PASSES_TD
