//===- KilnQuantOps.cpp - block quantization op verifiers -----------------===//
//
// kiln.block_quantize / kiln.block_dequantize: the shapes of the packed codes
// and the per-group scales follow from K, N, the bit width and the group
// size; one helper states the rule for both ops and for the passes that
// create them.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"

using namespace mlir;
using namespace kiln;

static bool supportedBits(int64_t bits) { return bits == 4 || bits == 8; }

std::pair<RankedTensorType, RankedTensorType>
BlockQuantizeOp::typesFor(RankedTensorType weight, int64_t bits, int64_t groupSize, bool float8) {
  if (!weight || weight.getRank() != 2 || !weight.hasStaticShape() || !supportedBits(bits) ||
      groupSize < 1 || (float8 && bits != 8))
    return {};
  int64_t k = weight.getDimSize(0), n = weight.getDimSize(1);
  MLIRContext *ctx = weight.getContext();
  auto blocks = [&](int64_t d) { return (d + groupSize - 1) / groupSize; };
  return {RankedTensorType::get({(k * bits + 7) / 8, n}, IntegerType::get(ctx, 8)),
          RankedTensorType::get({blocks(k), float8 ? blocks(n) : n}, Float32Type::get(ctx))};
}

/// `data` and `scales` (and `zeros`, when given) against a [K, N] weight.
static LogicalResult checkBlockLayout(const ShapeDiag &diag, RankedTensorType weight,
                                      RankedTensorType data, RankedTensorType scales,
                                      RankedTensorType zeros, int64_t bits, int64_t groupSize,
                                      bool float8) {
  if (!supportedBits(bits))
    return diag.error("bits must be 4 or 8, got ", bits);
  if (float8 && bits != 8)
    return diag.error("float8 codes are 8 bits, got bits = ", bits);
  if (float8 && zeros)
    return diag.error("float8 codes take no zero points");
  if (weight.getRank() != 2 || !weight.hasStaticShape())
    return diag.error("the weight must be a 2-D [K, N] tensor of static shape, got ", weight);
  auto [wantData, wantScales] = BlockQuantizeOp::typesFor(weight, bits, groupSize, float8);
  int64_t k = weight.getDimSize(0);
  if (data.getShape() != wantData.getShape())
    return diag.error("data must be [", wantData.getDimSize(0), ", ", wantData.getDimSize(1),
                      "] (", k, " rows of ", bits, "-bit codes), got ", data);
  if (scales.getShape() != wantScales.getShape())
    return diag.error("scales must be [", wantScales.getDimSize(0), ", ",
                      wantScales.getDimSize(1), "] (", k,
                      float8 ? " x " + std::to_string(weight.getDimSize(1)) + " in blocks of "
                             : std::string(" rows in groups of "),
                      groupSize, "), got ", scales);
  if (zeros && zeros.getShape() != scales.getShape())
    return diag.error("zero_points must be shaped like scales (",
                      shapeToString(scales.getShape()), "), got ", zeros);
  return success();
}

LogicalResult BlockQuantizeOp::verify() {
  return checkBlockLayout({getLoc(), getOperationName()}, getInput().getType(),
                          getData().getType(), getScales().getType(), RankedTensorType(),
                          getBits(), getGroupSize(), getFloat8());
}

LogicalResult BlockDequantizeOp::verify() {
  RankedTensorType zeros =
      getZeroPoints() ? cast<RankedTensorType>(getZeroPoints().getType()) : RankedTensorType();
  return checkBlockLayout({getLoc(), getOperationName()}, getType(), getData().getType(),
                          getScales().getType(), zeros, getBits(), getGroupSize(),
                          getFloat8());
}
