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
    into `memref<4096x...>` scratch and running 8 x 8 micro-tiles whose
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

#endif // KILN_TARGETS_CPU_PASSES_TD
