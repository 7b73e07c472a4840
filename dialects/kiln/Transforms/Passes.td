//===- Passes.td - kiln dialect passes ---------------------*- tablegen -*-===//

#ifndef KILN_TRANSFORMS_PASSES_TD
#define KILN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnSpecializeShapes : Pass<"kiln-specialize-shapes", "mlir::ModuleOp"> {
  let summary = "Fix dynamic input dimensions to given sizes";
  let description = [{
    Rewrites the argument types of every function so that the inputs named in
    `input-shapes` (by their `kiln.name` argument attribute, or `argN`) get
    the given static shape, then re-infers result types through the function
    (as `kiln-infer-shapes`). This is `--input-shape` of `kiln compile`.

    Before, with `input-shapes=tokens=2x16`:
    ```mlir
    func.func @main(%x: tensor<?x?xf32> {kiln.name = "tokens"}) -> tensor<?x?xf32> {
      %y = kiln.unary exp %x : tensor<?x?xf32>
      return %y : tensor<?x?xf32>
    }
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<2x16xf32> {kiln.name = "tokens"}) -> tensor<2x16xf32> {
      %y = kiln.unary exp %x : tensor<2x16xf32>
      return %y : tensor<2x16xf32>
    }
    ```
    A static dimension that disagrees with the requested size is an error.
  }];
  let options = [
    ListOption<"inputShapes", "input-shapes", "std::string",
               "NAME=D0xD1x... entries; NAME is an input name or argN">
  ];
}

def KilnInferShapes : Pass<"kiln-infer-shapes", "mlir::func::FuncOp"> {
  let summary = "Refine result types from operand types, and the function's results";
  let description = [{
    Walks the function in order and re-runs type inference on every op that
    implements it, replacing a result type by the inferred one when that is
    more static. `func.return` operand types then become the function's
    result types.

    Before:
    ```mlir
    func.func @f(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>) -> tensor<?x?xf32> {
      %c = kiln.matmul %a, %b : tensor<4x8xf32>, tensor<8x2xf32>
      %d = tensor.cast %c : tensor<4x2xf32> to tensor<?x?xf32>
      return %d : tensor<?x?xf32>
    }
    ```
    A result typed `tensor<?x?xf32>` on an op whose operands are static
    becomes `tensor<4x2xf32>`; ops without inference (kiln.reshape, casts)
    keep their types.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def KilnRefineShapes : Pass<"kiln-refine-shapes", "mlir::func::FuncOp"> {
  let summary = "Infer shapes and fold the shape computations they make constant, to a fixpoint";
  let description = [{
    Exporters compute shapes in the graph (`Shape -> Gather -> Unsqueeze ->
    Concat -> Reshape`, `view(b, s, h, d)` taken from `x.shape`). Once an
    input's dims are fixed (`--input-shape`) or a value folds, those chains
    fold to constants; a constant reshape or expand target, or constant
    run-time slice bounds, make more result types static, whose `kiln.shape`
    folds in turn. This pass alternates kiln-infer-shapes (which also reads
    constant reshape/expand targets) with canonicalization (every loaded
    dialect's patterns, plus constant run-time slice bounds becoming
    attributes) until neither changes anything (at most 32 rounds), and
    lets a kiln op read through a `tensor.cast` that only forgot static
    dims. With dims left dynamic the chains fold to symbols instead
    (SymbolicShapes.h): entries that are constants fold, and a target whose
    entries are constants or the input's own dims (`[b, s, 4, 16]` from
    `x.shape`) becomes the constant target `[0, 0, 4, 16]`.

    ```mlir
    %s = kiln.shape %x : tensor<1x64x256xf32>
    %r = kiln.reshape %x shape %t : tensor<4xi64> : tensor<1x64x256xf32> -> tensor<?x?x8x32xf32>
    ```
    with `%t` computed from `%s` becomes a constant target and
    `kiln.reshape %x : tensor<1x64x256xf32> -> tensor<1x64x8x32xf32>`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
}

def KilnExplicitBroadcasts : Pass<"kiln-explicit-broadcasts", "mlir::func::FuncOp"> {
  let summary = "Broadcast explicitly where dynamic dims may be 1 at run time";
  let description = [{
    Code generation reads elementwise operands through indexing maps that
    broadcast static 1s only: two dynamic dims meeting are taken to be the
    same size. Where the graph does not say so (different symbols, or a
    dynamic dim against a static one larger than 1: a mask [b, 1, 1, s]
    whose third dim is 1 only when the run says so), the operand becomes a
    `kiln.expand` to the broadcast shape computed at run time (the maximum
    of the operands' dims), which broadcasts per run. Nothing changes where
    every dim is static or the symbols agree.

    ```mlir
    %r = kiln.binary and %a, %b : tensor<1x1x?x?xi1>, tensor<?x?x?x?xi1>
    // %b's dim 2 may be 1: %b is expanded to max(shape(%a), shape(%b)) first
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def KilnSessionState : Pass<"kiln-session-state", "mlir::func::FuncOp"> {
  let summary = "Keep KV caches in the session: past/present pairs become caches written in place";
  let description = [{
    For `kiln compile --max-context N`. An output `present = Concat(past,
    new)` along a dynamic dim of an input `past` read by nothing else (what
    exporters write for a KV cache: `past_key_values.0.key` ->
    `present.0.key`; an attention op's own `past(pk, pv)` cache, as ONNX
    Attention and MultiHeadAttention import, is first written as those
    concatenations) becomes session state: a new argument, the cache, with
    N entries along that dim (its other dims are past's), marked
    `bufferization.writable`; `kiln.cache_append` writes `new` at the
    current length (past's dim, which the runtime fills with the cache's
    length) and the graph reads the slice of the updated cache up to the
    new length where it read `present`. The output becomes that new length
    (a tensor<1xi64>), so a step moves only its own entries, never the
    cache. The cache argument's `kiln.state` says which input carries the
    length, which output returns it, and the dim. With no such pair the
    pass fails: `--max-context` would do nothing.

    ```mlir
    %present = kiln.concat %past, %new axis = -2 : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
    return %present
    // becomes, with max-context=4096 and a new argument %cache : tensor<?x2x4096x16xf32>
    %n = ... dim 2 of %past ...
    %u = kiln.cache_append %cache, %new at %n axis = 2
    %len = kiln.binary add %n, (dim 2 of %new)
    %present = kiln.slice %u runtime(%zero, %len) runtime_axes %two ...
    return %len
    ```
  }];
  let options = [
    Option<"maxContext", "max-context", "int64_t", "0",
           "Entries each cache holds (tokens of context)">
  ];
}

def KilnResolveSequences : Pass<"kiln-resolve-sequences", "mlir::func::FuncOp"> {
  let summary = "Replace sequences whose structure is known at compile time by their tensors";
  let description = [{
    Exporters build small sequences inside a graph (a list of tensors to
    concatenate, a split whose pieces are picked by index). When every
    position is a constant, the sequence is a list of SSA values the
    compiler can track: `seq_empty`, `seq_construct`, `seq_insert`,
    `seq_erase` and `split_to_seq` (static splits become `kiln.slice`s)
    build the list; `seq_at` becomes the element, `seq_length` a constant
    and `concat_from_seq` a `kiln.concat` (with a reshape per element for
    `new_axis`). Sequence ops left without users are erased; sequences
    that reach the function's inputs or outputs, or whose positions are
    computed at run time, stay.

    ```mlir
    %s = kiln.seq_construct %a, %b : tensor<2x3xf32>, tensor<2x3xf32> -> !kiln.seq<tensor<2x3xf32>>
    %x = kiln.seq_at %s[%c1 : tensor<i64>] : !kiln.seq<tensor<2x3xf32>> -> tensor<2x3xf32>
    ```
    becomes a use of `%b`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
}

def KilnQuantizeWeights : Pass<"kiln-quantize-weights", "mlir::func::FuncOp"> {
  let summary = "Weight-only block quantization of the weights products read";
  let description = [{
    Every `kiln.matmul` whose right operand is a 2-D weight (a `kiln.weight`
    or a view of one: transposes, slices, reshapes, a widening cast) reads
    it through `kiln.block_quantize` + `kiln.block_dequantize` instead: 8-
    or 4-bit codes with one f32 scale per `group-size` rows of K and column
    (llama.cpp's Q8_0 / Q4_0 with groups along K). A `kiln.gated_mlp` whose
    three weights are weights is first decomposed into its products so
    they are quantized too. The compiler computes the codes when it writes
    the artifact; the CPU target's quantized matmul kernel widens them in
    registers. With `float8`, the codes are FP8 e4m3 with one scale per
    `group-size` x `group-size` block (DeepSeek-V3's format). This is `kiln
    compile --quantize-weights=int8|int4|fp8`.

    Before:
    ```mlir
    %w = kiln.weight "wq" from "m.bin" at 0 : tensor<256x64xf32>
    %y = kiln.matmul %x, %w : tensor<1x256xf32>, tensor<256x64xf32>
    ```
    After (`bits=4 group-size=128`):
    ```mlir
    %q, %s = kiln.block_quantize %w bits = 4 group_size = 128
        : tensor<256x64xf32> -> tensor<128x64xi8>, tensor<2x64xf32>
    %d = kiln.block_dequantize %q, %s bits = 4 group_size = 128
        : tensor<128x64xi8>, tensor<2x64xf32> -> tensor<256x64xf32>
    %y = kiln.matmul %x, %d : tensor<1x256xf32>, tensor<256x64xf32>
    ```
    Left alone, and said with `report`: weights of fewer than
    `min-elements` elements, computed right operands, and a MoE's expert
    weights (its kernel reads them as they are). A product of half-precision
    activations is computed in f32 around the quantized weight.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", "8", "Bits per code: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", "128",
           "Rows of K that share one scale">,
    Option<"float8", "float8", "bool", "false",
           "FP8 e4m3 codes with group-size x group-size block scales (bits=8)">,
    Option<"minElements", "min-elements", "int64_t", "4096",
           "Smaller weights stay as they are">,
    Option<"report", "report", "bool", "false",
           "Emit a remark for each weight quantized or left alone">
  ];
}

#endif // KILN_TRANSFORMS_PASSES_TD
