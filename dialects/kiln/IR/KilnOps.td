//===- KilnOps.td - kiln dialect ops -----------------------*- tablegen -*-===//
//
// Graph-level ops at ONNX granularity, then the fused ops. Shape rules live
// in TypeInference.cpp (one function per op family) so that verifiers, type
// inference and the frontends share them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_OPS_TD
#define KILN_OPS_TD

include "dialects/kiln/IR/KilnBase.td"
include "dialects/kiln/IR/KilnEnums.td"
include "dialects/kiln/IR/KilnTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Kiln_Tensor : RankedTensorOf<[AnyType]>;
def Kiln_FloatTensor : RankedTensorOf<[AnyFloat]>;
// Integer convolution (ConvInteger) accumulates in the integer type.
def Kiln_NumericTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def Kiln_BoolTensor : RankedTensorOf<[I1]>;
def Kiln_IndexTensor : RankedTensorOf<[I32, I64]>;
def Kiln_ShapeTensor : 1DTensorOf<[I64]>;

// An op whose result types follow from its operands and attributes. The
// assembly format omits result types; the parser infers them. The adaptor
// overload is the rule; KilnOps.cpp defines the interface method on top of
// it, merging attributes the parser has not yet moved into properties.
class Kiln_InferOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [Pure,
          DeclareOpInterfaceMethods<InferTypeOpInterface>])> {
  let extraClassDeclaration = [{
    static ::llvm::LogicalResult inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred);
  }];
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Kiln_WeightOp : Kiln_Op<"weight", [Pure]> {
  let summary = "a tensor read from a file at compile or load time";
  let description = [{
    References `byte_size(result)` bytes of little-endian tensor data stored
    at byte `offset` of `file`. The data is never copied into the IR: the
    compiler memory-maps the file when it needs the values (constant folding,
    packing, writing the artifact). A relative `file` is resolved against the
    directory of the model being compiled.

    ```mlir
    %w = kiln.weight "layers.0.wq" from "model.onnx.data" at 4096 : tensor<512x512xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$file,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$offset);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$name `from` $file `at` $offset attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Kiln_UnaryOp : Kiln_InferOp<"unary"> {
  let summary = "elementwise unary function";
  let description = [{
    Applies `kind` to every element. Float-only kinds (exp, log, tanh, ...)
    reject integer tensors; `not` takes `i1`; `bitwise_not` takes integers;
    `is_nan` and `is_inf` return `i1`. `round` rounds half to even (as ONNX
    Round and QuantizeLinear do); `gelu` is the erf form, `gelu_tanh` the
    tanh approximation.

    ```mlir
    %y = kiln.unary silu %x : tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Kiln_UnaryKind:$kind, Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Kiln_BinaryOp : Kiln_InferOp<"binary"> {
  let summary = "elementwise binary function with numpy broadcasting";
  let description = [{
    Both operands have the same element type; shapes broadcast as in numpy
    (align trailing dimensions; a dimension of 1 stretches).

    ```mlir
    %y = kiln.binary add %a, %b : tensor<2x8xf32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins Kiln_BinaryKind:$kind, Kiln_Tensor:$lhs,
                       Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let hasFolder = 1;
}

def Kiln_CompareOp : Kiln_InferOp<"compare"> {
  let summary = "elementwise comparison with numpy broadcasting, result i1";
  let arguments = (ins Kiln_CompareKind:$kind, Kiln_Tensor:$lhs,
                       Kiln_Tensor:$rhs);
  let results = (outs Kiln_BoolTensor:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let hasFolder = 1;
}

def Kiln_WhereOp : Kiln_InferOp<"where"> {
  let summary = "elementwise select with numpy broadcasting";
  let description = [{
    `result[i] = condition[i] ? true_value[i] : false_value[i]` after
    broadcasting all three operands to a common shape.
  }];
  let arguments = (ins Kiln_BoolTensor:$condition, Kiln_Tensor:$true_value,
                       Kiln_Tensor:$false_value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:`
    type($condition) `,` type($true_value) `,` type($false_value)
  }];
  let hasFolder = 1;
}

def Kiln_CastOp : Kiln_Op<"cast", [Pure]> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Float to integer truncates toward zero; to `i1` is `!= 0`; integers are
    signless and treated as signed except `ui*` types.
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Kiln_MatmulOp : Kiln_InferOp<"matmul"> {
  let summary = "numpy-style matrix product with batch broadcasting";
  let description = [{
    `[..., M, K] x [..., K, N] -> [..., M, N]`; batch dimensions broadcast; a
    1-D operand is promoted as numpy does and the promoted dimension removed.

    ```mlir
    %y = kiln.matmul %a, %b : tensor<4x128x64xf32>, tensor<64x32xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def Kiln_GemmOp : Kiln_InferOp<"gemm"> {
  let summary = "alpha * op(A) x op(B) + beta * C, as ONNX Gemm";
  let description = [{
    `A` and `B` are 2-D; `trans_a`/`trans_b` transpose them first; the
    optional `C` broadcasts to `[M, N]`.
  }];
  let arguments = (ins Kiln_Tensor:$a, Kiln_Tensor:$b,
                       Optional<Kiln_Tensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       UnitAttr:$trans_a, UnitAttr:$trans_b);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` type($a) `,` type($b) (`,` type($c)^)?
  }];
}

//===----------------------------------------------------------------------===//
// Normalization-like reductions
//===----------------------------------------------------------------------===//

def Kiln_SoftmaxOp : Kiln_InferOp<"softmax"> {
  let summary = "softmax (or log-softmax) along one axis";
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis, UnitAttr:$log);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `axis` `=` $axis (`log` $log^)? attr-dict `:` type($input)
  }];
}

def Kiln_ReduceOp : Kiln_InferOp<"reduce"> {
  let summary = "reduction over a set of axes";
  let description = [{
    `axes` lists distinct dimensions (negative counts from the end); an empty
    list is the identity. With `keepdims` reduced dimensions stay as size 1.

    When the model computes the axes, they come as the 1-D i64 operand
    `runtime_axes` instead (with ONNX semantics: empty means all axes, or
    none with `noop_with_empty_axes`). The result rank is then still known
    (the input's with `keepdims`, else minus the static axes count) but its
    extents are dynamic.

    ```mlir
    %m = kiln.reduce mean %x axes = [-1] keepdims : tensor<2x8xf32>
    %s = kiln.reduce sum %x axes = [] runtime_axes %a : tensor<1xi64> keepdims : tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Kiln_ReduceKind:$kind, Kiln_Tensor:$input,
                       DenseI64ArrayAttr:$axes,
                       Optional<Kiln_ShapeTensor>:$runtime_axes,
                       UnitAttr:$keepdims, UnitAttr:$noop_with_empty_axes);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $kind $input `axes` `=` $axes (`runtime_axes` $runtime_axes^ `:` type($runtime_axes))?
    (`keepdims` $keepdims^)? attr-dict `:` type($input)
  }];
  let hasFolder = 1;
}

def Kiln_ArgReduceOp : Kiln_InferOp<"arg_reduce"> {
  let summary = "index of the largest or smallest element along an axis";
  let arguments = (ins Kiln_ArgKind:$kind, Kiln_Tensor:$input,
                       I64Attr:$axis, UnitAttr:$keepdims,
                       UnitAttr:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = [{
    $kind $input `axis` `=` $axis (`keepdims` $keepdims^)?
    (`select_last_index` $select_last_index^)? attr-dict `:` type($input)
  }];
}

def Kiln_TopKOp : Kiln_InferOp<"topk"> {
  let summary = "the k largest (or smallest) elements along an axis";
  let description = [{
    A scalar i64 `runtime_k` operand, when given, replaces `k` (the
    selected axis is then dynamic).
  }];
  let arguments = (ins Kiln_Tensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$k, I64Attr:$axis,
                       Optional<0DTensorOf<[I64]>>:$runtime_k,
                       DefaultValuedAttr<BoolAttr, "true">:$largest,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Kiln_Tensor:$values, RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = [{
    $input `k` `=` $k `axis` `=` $axis (`runtime_k` $runtime_k^ `:` type($runtime_k))?
    attr-dict `:` type($input)
  }];
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Kiln_TransposeOp : Kiln_InferOp<"transpose"> {
  let summary = "permute dimensions";
  let description = "`result.shape[i] = input.shape[perm[i]]`.";
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input `perm` `=` $perm attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Pure]> {
  let summary = "same elements, new shape";
  let description = [{
    The result type gives the new shape. Without a `shape` operand at most
    one result dimension may be dynamic (it is implied by the element
    count). A `shape` operand holds the target at run time with ONNX
    Reshape semantics: `-1` is implied by the element count and `0` copies
    the input's extent unless `allowzero` is set.
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_ShapeTensor>:$shape,
                       UnitAttr:$allowzero);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`shape` $shape^ `:` type($shape))? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_ExpandOp : Kiln_Op<"expand", [Pure]> {
  let summary = "broadcast to a larger shape";
  let description = [{
    Numpy broadcasting of `input` to the result shape: dimensions align from
    the right and each input dimension is 1 or equal to the result's. A
    `shape` operand gives the target at run time with ONNX Expand semantics
    (it broadcasts with the input shape, so a 1 keeps the input's extent).
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_ShapeTensor>:$shape);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`shape` $shape^ `:` type($shape))? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_GatherOp : Kiln_InferOp<"gather"> {
  let summary = "take slices of data along an axis at the given indices";
  let description = [{
    As ONNX Gather: the result shape is
    `data.shape[:axis] + indices.shape + data.shape[axis+1:]`. Negative
    indices count from the end of the axis.
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` `axis` `=` $axis attr-dict `:` type($data) `,` type($indices)
  }];
  let hasFolder = 1;
}

def Kiln_SliceOp : Kiln_InferOp<"slice", [AttrSizedOperandSegments]> {
  let summary = "strided slice with one (start, end, step) per dimension";
  let description = [{
    One entry per input dimension, with ONNX semantics: negative starts and
    ends count from the end, out-of-range values clamp, `step` is non-zero
    and may be negative.

    When the model computes them, 1-D i64 operands give `runtime_starts`,
    `runtime_ends` and optionally `runtime_axes` and `runtime_steps` (ONNX
    Slice inputs, one entry per sliced axis) instead; the attributes are
    then empty and every result extent is dynamic. A part of an ONNX Split
    with run-time sizes sets `exact_bounds` (each start and end taken as
    given: a run where 0 <= start <= end <= the dim fails is refused, not
    clamped) and, for the last part, `reaches_end` (its end is the dim:
    the sizes add up).

    ```mlir
    %y = kiln.slice %x starts = [0, 2] ends = [4, 9223372036854775807] steps = [1, 1] : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input,
                       Optional<Kiln_ShapeTensor>:$runtime_starts,
                       Optional<Kiln_ShapeTensor>:$runtime_ends,
                       Optional<Kiln_ShapeTensor>:$runtime_axes,
                       Optional<Kiln_ShapeTensor>:$runtime_steps,
                       DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps,
                       UnitAttr:$exact_bounds, UnitAttr:$reaches_end);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`runtime` `(` $runtime_starts^ `,` $runtime_ends `:` type($runtime_starts) `,` type($runtime_ends) `)`)?
    (`runtime_axes` $runtime_axes^ `:` type($runtime_axes))?
    (`runtime_steps` $runtime_steps^ `:` type($runtime_steps))?
    `starts` `=` $starts `ends` `=` $ends `steps` `=` $steps attr-dict `:` type($input)
  }];
  let hasFolder = 1;
}

def Kiln_ConcatOp : Kiln_InferOp<"concat"> {
  let summary = "join tensors along an axis";
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$inputs `axis` `=` $axis attr-dict `:` type($inputs)";
  let hasFolder = 1;
}

def Kiln_CacheAppendOp : Kiln_Op<"cache_append", [Pure]> {
  let summary = "a cache's entries with new ones appended at a run-time length";
  let description = [{
    The first `length + n` entries along `axis` of `cache` once `update`
    (n entries there) is written at `length` (one i64 entry): as a value,
    `Concat(cache[..length..], update)`; every other dim of `update` and of
    the result is the cache's. What a KV cache kept in the session becomes:
    `kiln-session-state` turns `Concat(past, new)` into this op on a cache
    argument of `--max-context` entries, and the lowering writes `update`
    into the cache where it lies (`tensor.insert_slice` into a writable
    argument) and reads the result as a view of it, so a step moves only
    its new entries. Entries past the cache's end are an error at run time
    (a shape check).

    ```mlir
    %present = kiln.cache_append %cache, %new at %n axis = 2
        : tensor<1x2x4096x16xf32>, tensor<1x2x?x16xf32>, tensor<1xi64> -> tensor<1x2x?x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$cache, Kiln_Tensor:$update, Kiln_ShapeTensor:$length,
                       I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $cache `,` $update `at` $length `axis` `=` $axis attr-dict `:` type($cache) `,`
    type($update) `,` type($length) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_ShapeOp : Kiln_InferOp<"shape"> {
  let summary = "the extents of a tensor as a 1-D i64 tensor";
  let description = [{
    Folds to a constant when the input shape is static, which is how shape
    computations exported as Shape -> Gather -> Concat -> Reshape collapse.

    ```mlir
    %s = kiln.shape %x : tensor<?x128xf32>   // tensor<2xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs 1DTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}


//===----------------------------------------------------------------------===//
// Indexed data movement
//===----------------------------------------------------------------------===//

def Kiln_GatherElementsOp : Kiln_InferOp<"gather_elements"> {
  let summary = "take elements along an axis at per-element indices";
  let description = [{
    As ONNX GatherElements: `indices` has the rank of `data`, and
    `result[i][j][k] = data[indices[i][j][k]][j][k]` for axis 0 (likewise
    for other axes). The result has the shape of `indices`.
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` `axis` `=` $axis attr-dict `:` type($data) `,` type($indices)
  }];
}

def Kiln_ScatterElementsOp : Kiln_InferOp<"scatter_elements"> {
  let summary = "write updates into a copy of data at per-element indices";
  let description = [{
    The inverse of `kiln.gather_elements`; `updates` has the shape of
    `indices`. With a `reduction`, updates combine with the existing value.
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       Kiln_Tensor:$updates, I64Attr:$axis,
                       DefaultValuedAttr<Kiln_ScatterReductionAttr,
                                         "::kiln::ScatterReduction::none">:$reduction);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $updates `into` $data `[` $indices `]` `axis` `=` $axis attr-dict `:`
    type($data) `,` type($indices) `,` type($updates)
  }];
}

def Kiln_GatherNdOp : Kiln_InferOp<"gather_nd"> {
  let summary = "take slices of data at index tuples";
  let description = [{
    As ONNX GatherND: the last dimension of `indices` (m, static) indexes the
    first m dimensions of `data` after `batch_dims` shared leading
    dimensions. Result: `indices.shape[:-1] + data.shape[batch_dims + m:]`.
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` attr-dict `:` type($data) `,` type($indices)
  }];
}

def Kiln_ScatterNdOp : Kiln_InferOp<"scatter_nd"> {
  let summary = "write slices into a copy of data at index tuples";
  let description = [{
    As ONNX ScatterND: `updates` has shape
    `indices.shape[:-1] + data.shape[m:]` where m is the last dimension of
    `indices`.
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       Kiln_Tensor:$updates,
                       DefaultValuedAttr<Kiln_ScatterReductionAttr,
                                         "::kiln::ScatterReduction::none">:$reduction);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $updates `into` $data `[` $indices `]` attr-dict `:`
    type($data) `,` type($indices) `,` type($updates)
  }];
}

def Kiln_CumsumOp : Kiln_InferOp<"cumsum"> {
  let summary = "running sum along an axis";
  let description = [{
    `exclusive` leaves out the element itself; `reverse` sums from the end.
    A scalar i64 `runtime_axis` operand, when given, replaces `axis`.
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                       Optional<0DTensorOf<[I64]>>:$runtime_axis,
                       UnitAttr:$exclusive, UnitAttr:$reverse);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input `axis` `=` $axis (`runtime_axis` $runtime_axis^ `:` type($runtime_axis))?
    (`exclusive` $exclusive^)? (`reverse` $reverse^)? attr-dict `:` type($input)
  }];
}

def Kiln_NonZeroOp : Kiln_InferOp<"nonzero"> {
  let summary = "indices of the non-zero elements, [rank, count] with count data-dependent";
  let description = [{
    The result's second dimension depends on the data, so it is always
    dynamic; code generation that cannot handle data-dependent shapes
    reports an error at this op.
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_PadOp : Kiln_InferOp<"pad", [AttrSizedOperandSegments]> {
  let summary = "pad (or crop, with negative amounts) every dimension";
  let description = [{
    `pads` holds the amount before each dimension, then after each one
    (ONNX order). `value` (a scalar, default 0) fills constant padding. A
    `runtime_pads` operand (1-D i64, 2 x rank) replaces `pads` when the
    model computes them; the padded extents are then dynamic.
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_Tensor>:$value,
                       Optional<Kiln_ShapeTensor>:$runtime_pads,
                       DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<Kiln_PadModeAttr,
                                         "::kiln::PadMode::constant">:$mode);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`value` $value^ `:` type($value))?
    (`runtime_pads` $runtime_pads^ `:` type($runtime_pads))? `pads` `=` $pads
    attr-dict `:` type($input)
  }];
}

//===----------------------------------------------------------------------===//
// Convolution, pooling, resampling
//===----------------------------------------------------------------------===//

def Kiln_ConvOp : Kiln_InferOp<"conv"> {
  let summary = "N-d grouped convolution, NCHW layout";
  let description = [{
    `input`: `[N, C, D1..Dk]`, `weight`: `[M, C/group, K1..Kk]`, optional
    `bias`: `[M]`. `strides` and `dilations` have k entries, `pads` 2k
    (begins, then ends). Output extent:
    `floor((D + pad_begin + pad_end - ((K-1)*dilation + 1)) / stride) + 1`.
  }];
  let arguments = (ins Kiln_NumericTensor:$input, Kiln_NumericTensor:$weight,
                       Optional<Kiln_NumericTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight) (`,` type($bias)^)?
  }];
}

def Kiln_ConvTransposeOp : Kiln_InferOp<"conv_transpose"> {
  let summary = "N-d grouped transposed convolution, NCHW layout";
  let description = [{
    `input`: `[N, C, D1..Dk]`, `weight`: `[C, M/group, K1..Kk]`. Output
    extent: `stride*(D-1) + output_padding + (K-1)*dilation + 1 - pad_begin
    - pad_end`.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight) (`,` type($bias)^)?
  }];
}

def Kiln_PoolOp : Kiln_InferOp<"pool"> {
  let summary = "N-d max, average or Lp pooling, NCHW layout";
  let description = [{
    Windows of `kernel` with `strides`, `dilations` and `pads` (begins, then
    ends) over the spatial dimensions. `ceil_mode` rounds the output extent
    up (a window must still start inside the input or its begin padding).
    Average pooling divides by the window size including padding when
    `count_include_pad`, else by the number of real elements. Lp pooling
    uses `p`. Max pooling `with_indices` also returns where each maximum
    came from, as a flat index into the input (row-major, or over the
    transposed spatial dimensions when `column_major`).
  }];
  let arguments = (ins Kiln_PoolKind:$kind, Kiln_Tensor:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       UnitAttr:$ceil_mode, UnitAttr:$count_include_pad,
                       DefaultValuedAttr<I64Attr, "2">:$p,
                       UnitAttr:$with_indices, UnitAttr:$column_major);
  let results = (outs Kiln_Tensor:$result,
                      Optional<RankedTensorOf<[I64]>>:$indices);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
}

def Kiln_ResizeOp : Kiln_Op<"resize", [Pure, AttrSizedOperandSegments]> {
  let summary = "resample to the result shape (nearest, linear, cubic)";
  let description = [{
    The result type gives the output shape. `scales`, when present, are the
    per-dimension scale factors the coordinate transform uses (ONNX uses
    them rather than output/input when the model gave scales). When the
    model computes them, `runtime_scales` (1-D float, one per dimension) or
    `runtime_sizes` (1-D i64) give them at run time and the result
    dimensions they change are dynamic.
    `coordinate_transformation_mode`, `nearest_mode`, `cubic_coeff_a`,
    `exclude_outside` and `extrapolation_value` follow ONNX Resize.
  }];
  let arguments = (ins Kiln_Tensor:$input,
                       Optional<1DTensorOf<[AnyFloat]>>:$runtime_scales,
                       Optional<Kiln_ShapeTensor>:$runtime_sizes,
                       DefaultValuedAttr<Kiln_ResizeModeAttr,
                                         "::kiln::ResizeMode::nearest">:$mode,
                       OptionalAttr<DenseF32ArrayAttr>:$scales,
                       DefaultValuedAttr<StrAttr, "\"half_pixel\"">:$coordinate_transformation_mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       UnitAttr:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`scales` $runtime_scales^ `:` type($runtime_scales))?
    (`sizes` $runtime_sizes^ `:` type($runtime_sizes))?
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_RangeOp : Kiln_InferOp<"range", [AllTypesMatch<["start", "limit", "delta"]>]> {
  let summary = "start, start + delta, ... up to (not including) limit";
  let description = [{
    Scalar `start`, `limit`, `delta` of one numeric type; the length,
    `max(0, ceil((limit - start) / delta))`, is known only at run time
    unless the bounds fold to constants.
  }];
  let arguments = (ins Kiln_Tensor:$start, Kiln_Tensor:$limit, Kiln_Tensor:$delta);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $start `,` $limit `,` $delta attr-dict `:` type($start)
  }];
}

def Kiln_TriluOp : Kiln_InferOp<"trilu"> {
  let summary = "keep the upper (or lower) triangle of the last two dimensions";
  let description = [{
    Elements on or above (`upper`) or on or below the `k`-th diagonal are
    kept, the rest set to zero. `k` is a scalar i64 operand (default 0).
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<0DTensorOf<[I64]>>:$k,
                       UnitAttr:$upper);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $input (`k` $k^ `:` type($k))? (`upper` $upper^)? attr-dict `:` type($input)
  }];
}

def Kiln_EinsumOp : Kiln_InferOp<"einsum"> {
  let summary = "Einstein summation";
  let description = [{
    `equation` in numpy form (`"bij,bjk->bik"`, `"...ij,...jk"`); without
    `->` the output is the letters that appear once, sorted.
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, StrAttr:$equation);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$equation $inputs attr-dict `:` type($inputs)";
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

def Kiln_LayerNormOp : Kiln_InferOp<"layer_norm"> {
  let summary = "layer normalization over dimensions [axis, rank)";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias`; `scale` and `bias`
    broadcast to `x.shape[axis:]`.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` type($input) `,` type($scale) (`,` type($bias)^)?
  }];
}

def Kiln_RmsNormOp : Kiln_InferOp<"rms_norm"> {
  let summary = "root-mean-square normalization over dimensions [axis, rank)";
  let description = [{
    `x / sqrt(mean(x^2) + epsilon) * weight`; `weight` broadcasts to
    `x.shape[axis:]`. Raised from Pow/ReduceMean/Add/Sqrt/Div chains and
    imported from ONNX `RMSNormalization`.

    ```mlir
    %y = kiln.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<1x16x512xf32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
}

//===----------------------------------------------------------------------===//
// Fused transformer ops
//===----------------------------------------------------------------------===//

def Kiln_RopeOp : Kiln_InferOp<"rope"> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates the first `R` features of the last dimension of `input`, where
    `R` is the last dimension of `cos`/`sin` (even, at most the feature
    size); the remaining features pass through (partial rotary). `cos` and
    `sin` broadcast against `input.shape[:-1]`.

    Default is the rotate-half form (`x * cos + rotate_half(x) * sin`, as
    Llama/Hugging Face export it): feature `i` pairs with `i + R/2` and
    `cos`/`sin` hold the `R/2` angles twice, `[c0..c(R/2-1), c0..c(R/2-1)]`.
    `interleaved` rotates adjacent pairs `(2i, 2i+1)` (GPT-J form) and
    `cos`/`sin` hold each angle twice in a row, `[c0, c0, c1, c1, ...]`.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$cos,
                       Kiln_FloatTensor:$sin, UnitAttr:$interleaved);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin (`interleaved` $interleaved^)? attr-dict `:`
    type($input) `,` type($cos) `,` type($sin)
  }];
}

def Kiln_AttentionOp : Kiln_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention with GQA, MLA head dims and KV cache";
  let description = [{
    `softmax(Q Kᵀ * scale + mask) V` on `[batch, heads, seq, head_dim]`
    tensors:

    - `query`: `[B, Hq, Sq, Dqk]`, `key`: `[B, Hkv, Skv, Dqk]`,
      `value`: `[B, Hkv, Skv, Dv]`. `Hq` is a multiple of `Hkv`
      (grouped-query attention; query head `h` reads K/V head
      `h / (Hq / Hkv)`). `Dv` may differ from `Dqk` (DeepSeek MLA).
    - `scale` defaults to `1 / sqrt(Dqk)`.
    - `softcap` (optional, > 0; Gemma 2): the scaled scores become
      `softcap * tanh(scores / softcap)` before the mask is applied (ONNX
      opset-23 Attention and onnxruntime's GroupQueryAttention order).
    - `mask` (optional) broadcasts to `[B, Hq, Sq, L]`: a float mask is
      added to the scores, an `i1` mask keeps positions that are true.
    - `causal`: query `i` sees key `j` iff `j <= i + (L - Sq)` (aligned to
      the bottom right, so a decode step with a cache sees the whole past;
      ONNX opset-23 Attention defines it the same way).
    - A query row whose every key is masked out produces zeros, not NaN.
    - KV cache: with `past(%past_key, %past_value)` of shapes
      `[B, Hkv, P, Dqk]` and `[B, Hkv, P, Dv]`, the keys and values attended
      to are the past followed by the new ones (`L = P + Skv`), and the op
      also returns them as `present_key` and `present_value`. Without a
      cache `L = Skv` and the op has one result.

    The result is `[B, Hq, Sq, Dv]`.

    ```mlir
    %o = kiln.attention %q, %k, %v {causal} : tensor<1x8x128x64xf32>,
           tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32> -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key,
                       Kiln_FloatTensor:$value,
                       Optional<Kiln_Tensor>:$mask,
                       Optional<Kiln_FloatTensor>:$past_key,
                       Optional<Kiln_FloatTensor>:$past_value,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap);
  let results = (outs Kiln_FloatTensor:$output,
                      Variadic<Kiln_FloatTensor>:$present);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`past` `(` $past_key^ `,` $past_value `:` type($past_key) `,` type($past_value) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type(results)
  }];
  let hasVerifier = 1;
  let builders = [
    // Result types from the operands (4-D Q/K/V): the output, and the
    // present cache when a past is given.
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key, "::mlir::Value":$value,
                   "::mlir::Value":$mask, "::mlir::Value":$past_key,
                   "::mlir::Value":$past_value, "bool":$causal,
                   "::mlir::FloatAttr":$scale, CArg<"::mlir::FloatAttr", "{}">:$softcap)>
  ];
  let extraClassDeclaration = [{
    /// The scale applied to Q Kᵀ: the attribute, or 1/sqrt(Dqk).
    float getEffectiveScale();
    /// The result types the operands imply: output, then the present cache
    /// when a past is given. Assumes valid operands.
    ::llvm::SmallVector<::mlir::RankedTensorType> inferResultTypes();
    /// The same from the operand types (`pastKey` null without a cache).
    static ::llvm::SmallVector<::mlir::RankedTensorType>
    resultTypesFor(::mlir::RankedTensorType query, ::mlir::RankedTensorType key,
                   ::mlir::RankedTensorType value, ::mlir::RankedTensorType pastKey);
  }];
}

def Kiln_MoeOp : Kiln_InferOp<"moe", [AttrSizedOperandSegments]> {
  let summary = "mixture-of-experts layer: router, top-k, gated experts, shared experts";
  let description = [{
    For each token `x` (a row of `hidden`, `[T, H]` or `[..., H]`):

    1. `logits = x · router_weight` (`[H, E]`); `scores = softmax(logits)`
       or `sigmoid(logits)` per `scoring`.
    2. Selection uses `scores + score_bias` when the optional `score_bias`
       (`[E]`, DeepSeek-V3's correction bias) is given. With `n_group > 1`
       experts form `n_group` equal groups, each group is scored by the sum
       of its two best selection scores, and only the best `topk_group`
       groups stay eligible. The `top_k` best eligible experts are chosen.
    3. Routing weights are the *unbiased* scores of the chosen experts,
       divided by their sum if `normalize`, times `routed_scaling_factor`.
    4. Expert `e` computes
       `down[e]ᵀ · (act(gate[e]ᵀ x) * (up[e]ᵀ x))` with `gate_weight`,
       `up_weight`: `[E, H, I]` and `down_weight`: `[E, I, H]`.
    5. Shared experts (`shared(%g, %u, %d)`: `[H, Is]`, `[H, Is]`,
       `[Is, H]`) run on every token and are added, scaled by
       `sigmoid(x · shared_expert_gate)` when that `[H, 1]` operand is
       given (Qwen-MoE).

    Mixtral is `scoring = softmax, normalize`; Qwen-MoE adds a gated shared
    expert; DeepSeek-V3 is `scoring = sigmoid` with `score_bias`,
    `n_group`/`topk_group`, `normalize` and `routed_scaling_factor`.
  }];
  let arguments = (ins Kiln_FloatTensor:$hidden,
                       Kiln_FloatTensor:$router_weight,
                       Kiln_FloatTensor:$gate_weight,
                       Kiln_FloatTensor:$up_weight,
                       Kiln_FloatTensor:$down_weight,
                       Optional<Kiln_FloatTensor>:$score_bias,
                       Optional<Kiln_FloatTensor>:$shared_gate,
                       Optional<Kiln_FloatTensor>:$shared_up,
                       Optional<Kiln_FloatTensor>:$shared_down,
                       Optional<Kiln_FloatTensor>:$shared_expert_gate,
                       ConfinedAttr<I64Attr, [IntPositive]>:$top_k,
                       DefaultValuedAttr<Kiln_ScoreFuncAttr,
                                         "::kiln::ScoreFunc::softmax">:$scoring,
                       UnitAttr:$normalize,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>, "1">:$n_group,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>, "1">:$topk_group,
                       DefaultValuedAttr<F32Attr, "1.0">:$routed_scaling_factor,
                       DefaultValuedAttr<Kiln_ActivationAttr,
                                         "::kiln::Activation::silu">:$activation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $hidden `router` `(` $router_weight `:` type($router_weight) `)`
    `experts` `(` $gate_weight `,` $up_weight `,` $down_weight `:`
        type($gate_weight) `,` type($up_weight) `,` type($down_weight) `)`
    (`bias` `(` $score_bias^ `:` type($score_bias) `)`)?
    (`shared` `(` $shared_gate^ `,` $shared_up `,` $shared_down `:`
        type($shared_gate) `,` type($shared_up) `,` type($shared_down) `)`)?
    (`shared_expert_gate` `(` $shared_expert_gate^ `:` type($shared_expert_gate) `)`)?
    attr-dict `:` type($hidden)
  }];
}

def Kiln_GatedMlpOp : Kiln_InferOp<"gated_mlp"> {
  let summary = "down(act(x · gate) * (x · up)), as Llama's MLP";
  let description = [{
    `input`: `[..., H]`, `gate_weight` and `up_weight`: `[H, I]`,
    `down_weight`: `[I, O]`; the result is `[..., O]`.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$gate_weight,
                       Kiln_FloatTensor:$up_weight,
                       Kiln_FloatTensor:$down_weight,
                       DefaultValuedAttr<Kiln_ActivationAttr,
                                         "::kiln::Activation::silu">:$activation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate_weight `,` $up_weight `,` $down_weight attr-dict `:`
    type($input) `,` type($gate_weight) `,` type($up_weight) `,` type($down_weight)
  }];
  let extraClassDeclaration = [{
    static ::llvm::LogicalResult inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred);
    /// down(act(x · gate) * (x · up)) as matmul, unary and binary ops at
    /// the builder's insertion point (what lowering and weight
    /// quantization decompose it into).
    ::mlir::Value buildDecomposition(::mlir::OpBuilder &b);
  }];
}

//===----------------------------------------------------------------------===//
// Weight-only block quantization
//===----------------------------------------------------------------------===//

def Kiln_BlockQuantizeOp : Kiln_Op<"block_quantize", [Pure]> {
  let summary = "symmetric block quantization of a [K, N] weight to 8 or 4 bits";
  let description = [{
    Per column n and group g of `group_size` consecutive rows (the K
    dimension, what a product reduces over): `scale = max|w| / qmax` with
    qmax = 127 (8 bits) or 7 (4 bits), and each `w` becomes the unsigned code
    `clamp(round_half_even(w / scale), -qmax, qmax) + 2^(bits-1)` (a zero
    scale gives the zero code for the whole group). This is llama.cpp's
    Q8_0 / Q4_0 with groups along K instead of blocks of 32.

    `data` is `[ceil(K * bits / 8), N]` i8 holding the codes row-major; with
    4 bits, byte `[k / 2, n]` holds row `k` in its low nibble when k is even
    and in its high nibble when k is odd. `scales` is `[ceil(K / group_size),
    N]` f32.

    With `float8` (8 bits only) the codes are FP8 e4m3fn bytes with one
    scale per `group_size` x `group_size` block (DeepSeek-V3's 128 x 128
    weight_scale_inv): `scale = max|w| / 448`, code = `w / scale` rounded to
    the nearest e4m3 value (ties to even); `scales` is `[ceil(K /
    group_size), ceil(N / group_size)]`.

    The compiler quantizes weights when it writes the artifact (`kiln
    compile --quantize-weights`): the input must be a weight or a view of one
    (transposes, slices, reshapes, a widening cast).

    ```mlir
    %q, %s = kiln.block_quantize %w bits = 4 group_size = 128
        : tensor<4096x1024xf32> -> tensor<2048x1024xi8>, tensor<32x1024xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$bits,
                       ConfinedAttr<I64Attr, [IntPositive]>:$group_size,
                       UnitAttr:$float8);
  let results = (outs RankedTensorOf<[I8]>:$data, RankedTensorOf<[F32]>:$scales);
  let assemblyFormat = [{
    $input `bits` `=` $bits `group_size` `=` $group_size (`float8` $float8^)? attr-dict `:`
    type($input) `->` type($data) `,` type($scales)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The data and scales types for a [K, N] weight (null types for a
    /// weight that is not 2-D with static dims, or unsupported bits).
    static std::pair<::mlir::RankedTensorType, ::mlir::RankedTensorType>
    typesFor(::mlir::RankedTensorType weight, int64_t bits, int64_t groupSize,
             bool float8 = false);
  }];
}

def Kiln_BlockDequantizeOp : Kiln_Op<"block_dequantize", [Pure]> {
  let summary = "the [K, N] f32 weight that block-quantized codes and scales stand for";
  let description = [{
    `result[k, n] = (code(k, n) - zero[k / group_size, n]) * scale[k / group_size, n]`
    with `data`, `scales` and the codes laid out as `kiln.block_quantize`
    writes them; `zero_points` (f32, shaped like `scales`) defaults to
    2^(bits-1), the symmetric code's zero. K is the result's row count.
    With `float8`: `result[k, n] = e4m3(data[k, n]) * scale[k / group_size,
    n / group_size]` (no zero points).

    Products with such a weight (`kiln.matmul %x, %dequantized`) are what
    the CPU target's quantized matmul kernel runs without materializing the
    f32 weight: the codes are widened and scaled in registers.

    ```mlir
    %w = kiln.block_dequantize %q, %s bits = 4 group_size = 128
        : tensor<2048x1024xi8>, tensor<32x1024xf32> -> tensor<4096x1024xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$data, RankedTensorOf<[F32]>:$scales,
                       Optional<RankedTensorOf<[F32]>>:$zero_points,
                       ConfinedAttr<I64Attr, [IntPositive]>:$bits,
                       ConfinedAttr<I64Attr, [IntPositive]>:$group_size,
                       UnitAttr:$float8);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $data `,` $scales (`zero_points` $zero_points^)? `bits` `=` $bits
    `group_size` `=` $group_size (`float8` $float8^)? attr-dict `:` type($data) `,`
    type($scales) (`,` type($zero_points)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

include "dialects/kiln/IR/KilnSpecialOps.td"
include "dialects/kiln/IR/KilnSequenceOps.td"

#endif // KILN_OPS_TD
