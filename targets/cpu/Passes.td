//===- Passes.td - CPU code-generation passes ---------------*- tablegen -*-===//

#ifndef KILN_TARGETS_CPU_PASSES_TD
#define KILN_TARGETS_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnCpuMatmulMicrokernel
    : Pass<"kiln-cpu-matmul-microkernel", "mlir::func::FuncOp"> {
  let summary = "Packed, register-blocked f32 matmul for the CPU (BLIS-style)";
  let description = [{
    Rewrites bufferized f32 `linalg.matmul` and `linalg.batch_matmul` with
    static shapes into the loop nest of a packed micro-kernel:

    - the N dimension is split into column panels of `panel-cols` columns,
      one `scf.parallel` iteration (a workgroup) each;
    - per panel, K is split into blocks of `k-block`; the B block is packed
      into contiguous `k x NR` micro-panels (zero waste: NR divides the
      panel), and each `MR x k` micro-panel of A is packed k-major so the
      kernel's broadcasts read consecutive floats;
    - the micro-kernel keeps an `MR x NR` tile of C in `MR * NR / VW`
      vector registers (`vector.fma` of a broadcast A element and a B
      vector per row), loaded once and stored once per K block.

    VW comes from `vector-bits`; NR is two vectors; MR is the largest row
    count whose accumulators, B vectors and broadcast fit in `registers`
    vector registers (8 rows for 32 AVX-512 registers, 6 for 16 AVX2 ones).
    Rows and columns left over (M mod MR, N mod NR) stay `linalg.matmul` on
    subviews. With one row block (decode-style M <= MR) B is read in place
    instead of packed: packing would cost as much as the product.

    Before:
    ```mlir
    linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x512xf32>)
                  outs(%c : memref<64x512xf32>)
    ```
    After: `scf.parallel` over 2 panels of 256 columns, each packing B
    into stack scratch (a `memref.alloca` before the loops, which dispatch
    partitioning re-creates per dispatch, so no thread shares it and no
    panel calls the allocator) and running 8 x 32 micro-tiles whose
    inner `scf.for` over K carries 16 `vector<16xf32>` accumulators.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", "256",
           "Width of a SIMD register in bits (128, 256, 512)">,
    Option<"registers", "registers", "unsigned", "16",
           "Number of SIMD registers the micro-kernel may use">,
    Option<"kBlock", "k-block", "int64_t", "256",
           "Depth of the packed B block (fits L1/L2 with the A micro-panel)">,
    Option<"panelCols", "panel-cols", "int64_t", "256",
           "Columns per workgroup panel (a multiple of NR)">
  ];
}

def KilnCpuQuantizedMatmul
    : Pass<"kiln-cpu-quantized-matmul", "mlir::func::FuncOp"> {
  let summary = "Products with a block-quantized weight, codes widened in registers";
  let description = [{
    Rewrites `kiln.matmul %x, (kiln.block_dequantize %codes, %scales)` on
    static tensors (x f32, f16 or bf16, of rank 2 or more, its rows
    collapsed), before bufferization, into the matmul micro-kernel's loop
    nest (MatmulEmitter) reading B as codes: each B vector is a load of
    `VW` code bytes (8-bit codes, or the 4-bit nibble of its row), widened
    to f32, offset by the zero point and multiplied by its group's scales.
    With one row block (decode) B is read in place, so the weight's bytes
    are read once per product (a quarter or an eighth of f32's); with more
    rows the packed panels hold the dequantized f32 values. The f32 weight
    is never materialized. Other forms keep kiln-to-linalg's reference
    lowering of `kiln.block_dequantize`.

    Before:
    ```mlir
    %w = kiln.block_dequantize %q, %s bits = 4 group_size = 128
        : tensor<512x1024xi8>, tensor<8x1024xf32> -> tensor<1024x1024xf32>
    %y = kiln.matmul %x, %w : tensor<1x1024xf32>, tensor<1024x1024xf32>
    ```
    After: `bufferization.to_buffer` of x, the codes and the scales, a
    `memref.alloc` for y written by an `scf.parallel` over the column
    panels, and `bufferization.to_tensor restrict writable` of it.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::tensor::TensorDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", "256",
           "Width of a SIMD register in bits (128, 256, 512)">,
    Option<"registers", "registers", "unsigned", "16",
           "Number of SIMD registers the micro-kernel may use">,
    Option<"kBlock", "k-block", "int64_t", "256", "Depth of the packed B block">,
    Option<"panelCols", "panel-cols", "int64_t", "256", "Columns per workgroup panel">
  ];
}

def KilnCpuFlashAttention
    : Pass<"kiln-cpu-flash-attention", "mlir::func::FuncOp"> {
  let summary = "kiln.attention as a fused online-softmax kernel (no S x L scores)";
  let description = [{
    Rewrites `kiln.attention` on f32 tensors with static heads and head
    dims (batch and lengths may be dynamic), before bufferization,
    into the CPU target's flash-style kernel. Rows are query positions
    times the query heads of one K/V head (row `r` is position `r / G` of
    query head `kv * G + r % G`), in blocks of `block-rows`; keys come in
    blocks of `block-cols`:

    - the grid (`scf.parallel`) is batch x K/V head x row block; each
      workgroup packs its rows of Q (pre-multiplied by the scale) and keeps
      a running max, sum and output accumulator per row in stack tiles;
    - per key block: scores = Q_blk K_blkᵀ by the matmul emitter (K is
      transposed once per call, `[B, Hkv, D, L]`), mask and causal limit
      applied, `p = exp(s - max)` with the max, sum and accumulator
      rescaled (online softmax), and `acc += p V_blk` by the emitter;
    - with `causal`, key blocks past the block's last row's limit are not
      visited (about half the work at Sq = L);
    - rows are written as `acc / sum`, zeros for a row that saw no key.

    Scratch is O(block rows x (block cols + head dims)) per thread; nothing
    is S x L. A K/V block is read once per row block for every query head
    of its group. With dynamic batch or lengths the counts are read per run
    (with `cf.assert`s that batch, K/V lengths and dynamic mask dims agree),
    K is read in place (the score product packs its blocks transposed), the
    keys past the last full block go through zero-padded tiles with their
    columns hidden, and the key splits are decided per run. Other element
    types keep the reference lowering (kiln-to-linalg).

    Before:
    ```mlir
    %o = kiln.attention %q, %k, %v {causal} : tensor<1x8x4096x32xf32>,
           tensor<1x8x4096x32xf32>, tensor<1x8x4096x32xf32> -> tensor<1x8x4096x32xf32>
    ```
    After: a `linalg.transpose` of K, `bufferization.to_buffer` of the
    operands, a `memref.alloc` for the output written by an `scf.parallel`
    over 512 workgroups (8 heads x 64 row blocks of 64), and
    `bufferization.to_tensor restrict writable` of it.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect", "mlir::linalg::LinalgDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::tensor::TensorDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", "256",
           "Width of a SIMD register in bits (128, 256, 512)">,
    Option<"registers", "registers", "unsigned", "16",
           "Number of SIMD registers the micro-kernels may use">,
    Option<"blockRows", "block-rows", "int64_t", "64",
           "Query rows per workgroup (rounded to the micro-tile height)">,
    Option<"blockCols", "block-cols", "int64_t", "64",
           "Keys per block (rounded to the micro-tile width)">
  ];
}

def KilnCpuRowKernels : Pass<"kiln-cpu-row-kernels", "mlir::func::FuncOp"> {
  let summary = "kiln.rms_norm and kiln.rope as one vectorized pass over rows each";
  let description = [{
    Rewrites f32 `kiln.rms_norm` (weight with one value per normalized
    element) and rotate-half `kiln.rope` whose rows have a static width
    (leading dims may be dynamic: the row count and grid are read per run),
    before bufferization,
    into one `scf.parallel` over blocks of rows that reads each row once
    and writes it once: the decompositions (square, mean, add, rsqrt,
    multiplies; slices, negate, concat, multiplies, add) become 4 and 6
    dispatches with a buffer between each.

    - rms_norm: per row, a vector sum of squares (`vector.fma`), one
      reduction, `1 / sqrt(mean + eps)`, then `x * inv * weight`;
    - rope: per row, with `h = R / 2`, `y[i] = x[i] cos[i] - x[h+i] sin[i]`
      and `y[h+i] = x[h+i] cos[h+i] + x[i] sin[h+i]` a vector at a time,
      the cos/sin row found from the row's position in `input.shape[:-1]`
      (their broadcast dims read index 0); features past R copied.

    The vector width is the largest power of two up to `vector-bits` / 32
    that divides the row (or half-row). Interleaved RoPE and other weights
    keep the decomposition.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::bufferization::BufferizationDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", "256",
           "Width of a SIMD register in bits (128, 256, 512)">
  ];
}

def KilnCpuMoe : Pass<"kiln-cpu-moe", "mlir::func::FuncOp"> {
  let summary = "kiln.moe as routing plus grouped expert GEMMs over routed tokens only";
  let description = [{
    Rewrites `kiln.moe` (static f32), before bufferization, into:

    - routing in kiln ops on `[T, H]` tokens: router matmul, softmax or
      sigmoid, the score-correction bias and group-limited selection
      (DeepSeek-V3: groups scored by their two best, the best `topk_group`
      groups eligible), TopK, weights from the unbiased scores, normalized
      and scaled as the op says;
    - one sequential dispatch counting each expert's rows and giving each
      (token, slot) pair a row in its expert's range of a gathered buffer
      (ranges start on micro-tile boundaries, so a tile never touches the
      next expert's rows);
    - a grid over tokens gathering their rows;
    - grids (`scf.parallel`) over experts x column panels for
      `act(X_e · G_e) * (X_e · U_e)` and then `(.) · D_e`: the matmul
      emitter on all of the expert's rows at once (live rows bound the
      row loop; a weight panel is packed once per K block and reused by
      every routed row); experts no token chose return at once;
    - a grid over tokens writing `weight * row` to each pair's slot row of
      a `[T * k, H]` buffer (each pair belongs to one expert: no races);
    - the slots summed per token, plus shared experts (dense, optionally
      scaled by `sigmoid(x · shared_expert_gate)`).

    Expert work follows the routed tokens: top_k / E of the dense layer.
    With one token (decode) the products have one row and read the chosen
    experts' weights in place, once each.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect", "mlir::linalg::LinalgDialect",
                           "mlir::bufferization::BufferizationDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", "256",
           "Width of a SIMD register in bits (128, 256, 512)">,
    Option<"registers", "registers", "unsigned", "16",
           "Number of SIMD registers the micro-kernels may use">,
    Option<"kBlock", "k-block", "int64_t", "64",
           "Depth of a packed weight block. Expert weights stream from memory "
           "once per call: short blocks keep the prefetch of the next block "
           "close (top-2 of 8 at seq 128 ran 15% faster with 64 than 256)">
  ];
}

def KilnCpuPartitionDispatches
    : Pass<"kiln-cpu-partition-dispatches", "mlir::ModuleOp"> {
  let summary = "Split the bufferized @main into dispatches, an arena and a host plan";
  let description = [{
    Runs on the kernel-ABI form of `@main` (memref arguments: inputs,
    weights, then outputs as out-parameters) after linalg has become
    `scf.parallel` loops. Every top-level operation that does work becomes
    one dispatch function

    ```mlir
    func.func @kiln_dispatch_3(%b0: memref<...>, ..., %first: index, %last: index)
    ```

    whose arguments are its buffer bindings and a range of workgroups. A
    top-level `scf.parallel` becomes a grid: the iterations of its first
    dimension with more than one are the workgroups (a leading batch of 1
    is skipped; a first dimension with a run-time count is first merged
    with the next, so a dynamic batch of 1 still splits its rows), and the
    dispatch runs iterations
    `[first, last)` of it, so the runtime's threads split the grid. Other
    operations are one workgroup. Cheap view and constant operations, and
    top-level `memref.alloca` scratch, are re-created inside each dispatch
    that needs them.

    Every top-level `memref.alloc` becomes a slot in one arena: slots whose
    live ranges (first to last dispatch using them or a view of them) do not
    overlap share bytes; offsets are 64-byte aligned. `@main` is removed and
    the module records the plan:

    - `kiln.plan`: one dictionary per dispatch in execution order with
      `entry`, `workgroups` and `bindings`, an array of (kind, value)
      pairs: kind 0 is `@main` argument `value`, kind 1 the arena at byte
      offset `value`;
    - `kiln.arena_bytes`, `kiln.intermediate_bytes` (the sum of the slots,
      what the arena saves against).

    When a non-buffer value crosses top-level operations (a scalar loaded
    by one and used by the next; a one-row kernel whose loops were
    canonicalized away), the op making it, its users and the ops between
    share one dispatch run in order on one workgroup; the others keep
    their own dispatches and grids.

    Dynamic dims (`@main` has arguments of dynamic shape; the module says
    how many dims-vector entries the inputs fill, `kiln.symbols`, and each
    input argument which, `kiln.dims`): a dims vector `D` (memref of i64)
    becomes the last argument and a binding of every dispatch that needs a
    size (kind 3); input dims are loads of it, out-parameters' dims are the
    index results kiln-return-result-dims left, and the shape computations
    move to the top and are re-created per dispatch. Dynamic slots (kind 2,
    `kiln.slots`: bytes entry, first and last dispatch) are placed by the
    runtime; a dynamic grid's count is an entry (`workgroups_entry`).
    Buffers of dynamic shape are passed as `memref<1xT>` and reinterpreted
    with their sizes. `@kiln_shapes(D)` computes the entries past the
    inputs'; `kiln.dims_length`, `kiln.output_dims` and `kiln.shape_entry`
    describe it. A size computed from data is an error at its op.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect", "mlir::arith::ArithDialect"];
}

#endif // KILN_TARGETS_CPU_PASSES_TD
