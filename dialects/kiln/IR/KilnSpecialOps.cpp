//===- KilnSpecialOps.cpp - random, recurrent, detection, signal ops ------===//

#include "dialects/kiln/IR/OpHelpers.h"

#include "mlir/IR/Matchers.h"
#include "llvm/Support/Format.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

KILN_INFER_VIA_ADAPTOR(RnnOp)
KILN_INFER_VIA_ADAPTOR(NonMaxSuppressionOp)
KILN_INFER_VIA_ADAPTOR(UniqueOp)
KILN_INFER_VIA_ADAPTOR(GridSampleOp)
KILN_INFER_VIA_ADAPTOR(RoiAlignOp)
KILN_INFER_VIA_ADAPTOR(DetOp)
KILN_INFER_VIA_ADAPTOR(DftOp)
KILN_INFER_VIA_ADAPTOR(TfIdfOp)
KILN_INFER_VIA_ADAPTOR(StftOp)

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// Whether `t` has `rank` and, where both are known, the extents `dims`.
static bool hasShape(RankedTensorType t, ArrayRef<int64_t> dims) {
  if (t.getRank() != (int64_t)dims.size())
    return false;
  for (auto [a, b] : llvm::zip(t.getShape(), dims))
    if (!dimsCompatible(a, b))
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// random
//===----------------------------------------------------------------------===//

/// `v` printed as %g does ("2", "0.5").
static std::string shortNumber(double v) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%g", v);
  return s;
}

LogicalResult RandomOp::verify() {
  auto rt = cast<RankedTensorType>(getResult().getType());
  if (Value like = getLike()) {
    auto lt = cast<RankedTensorType>(like.getType());
    if (!hasShape(rt, lt.getShape()))
      return emitOpError("result type ")
             << rt << " does not have the shape of `like` (" << lt << ")";
  } else if (!rt.hasStaticShape()) {
    return emitOpError("without `like` the result shape must be static, got ")
           << rt;
  }
  double a = getA().convertToDouble(), b = getB().convertToDouble();
  if (getDist() == RandomDist::uniform && !(a <= b))
    return emitOpError("uniform range [") << shortNumber(a) << ", "
                                          << shortNumber(b) << ") is empty";
  if (getDist() == RandomDist::normal && !(b >= 0))
    return emitOpError("normal stddev must be non-negative, got ")
           << shortNumber(b);
  return success();
}

//===----------------------------------------------------------------------===//
// rnn
//===----------------------------------------------------------------------===//

LogicalResult RnnOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                      Adaptor adaptor, SmallVectorImpl<Type> &out) {
  KILN_DIAG(RnnOp);
  KILN_RANKED(x, adaptor.getX(), "x");
  KILN_RANKED(w, adaptor.getW(), "w");
  KILN_RANKED(r, adaptor.getR(), "r");
  KILN_RANKED(b, adaptor.getB(), "b");
  KILN_RANKED(h0, adaptor.getInitialH(), "initial_h");
  KILN_RANKED(c0, adaptor.getInitialC(), "initial_c");
  KILN_RANKED(p, adaptor.getP(), "p");
  KILN_RANKED(lens, adaptor.getSequenceLens(), "sequence_lens");
  RnnKind kind = adaptor.getKind();
  int64_t gates = kind == RnnKind::rnn ? 1 : kind == RnnKind::gru ? 3 : 4;
  int64_t dirs = adaptor.getDirection() == RnnDirection::bidirectional ? 2 : 1;
  int64_t h = adaptor.getHiddenSize();
  if (x.getRank() != 3)
    return diag.error("x must be rank 3 (sequence, batch, input), got ", x);
  bool bf = adaptor.getBatchFirst();
  int64_t s = x.getDimSize(bf ? 1 : 0), bsz = x.getDimSize(bf ? 0 : 1),
          in = x.getDimSize(2);
  if (!hasShape(w, {dirs, gates * h, in}))
    return diag.error("w must be [", dirs, ", ", gates * h, ", ", in, "], got ", w);
  if (!hasShape(r, {dirs, gates * h, h}))
    return diag.error("r must be [", dirs, ", ", gates * h, ", ", h, "], got ", r);
  if (b && !hasShape(b, {dirs, 2 * gates * h}))
    return diag.error("b must be [", dirs, ", ", 2 * gates * h, "], got ", b);
  if (lens && !hasShape(lens, {bsz}))
    return diag.error("sequence_lens must be [", bsz, "], got ", lens);
  SmallVector<int64_t> state = bf ? SmallVector<int64_t>{bsz, dirs, h}
                                  : SmallVector<int64_t>{dirs, bsz, h};
  if (h0 && !hasShape(h0, state))
    return diag.error("initial_h must be ", shapeToString(state), ", got ", h0);
  if (kind != RnnKind::lstm && (c0 || p))
    return diag.error("initial_c and peepholes belong to LSTM only");
  if (c0 && !hasShape(c0, state))
    return diag.error("initial_c must be ", shapeToString(state), ", got ", c0);
  if (p && !hasShape(p, {dirs, 3 * h}))
    return diag.error("p must be [", dirs, ", ", 3 * h, "], got ", p);
  size_t acts = kind == RnnKind::rnn ? 1 : kind == RnnKind::gru ? 2 : 3;
  if (adaptor.getActivations().size() != acts * dirs)
    return diag.error("expected ", acts * dirs, " activations, got ",
                      adaptor.getActivations().size());
  Type e = x.getElementType();
  if (failed(checkSameElementType(diag, {x, w, r}, {"x", "w", "r"})))
    return failure();
  if (bf)
    (void)pushTensor(out, {bsz, s, dirs, h}, e);
  else
    (void)pushTensor(out, {s, dirs, bsz, h}, e);
  (void)pushTensor(out, state, e);
  if (kind == RnnKind::lstm)
    (void)pushTensor(out, state, e);
  return success();
}

//===----------------------------------------------------------------------===//
// Detection and sampling
//===----------------------------------------------------------------------===//

LogicalResult NonMaxSuppressionOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &out) {
  KILN_DIAG(NonMaxSuppressionOp);
  KILN_RANKED(boxes, adaptor.getBoxes(), "boxes");
  KILN_RANKED(scores, adaptor.getScores(), "scores");
  if (!hasShape(boxes, {kDyn, kDyn, 4}))
    return diag.error("boxes must be [batch, boxes, 4], got ", boxes);
  if (!hasShape(scores, {boxes.getDimSize(0), kDyn, boxes.getDimSize(1)}))
    return diag.error("scores must be [", boxes.getDimSize(0), ", classes, ",
                      boxes.getDimSize(1), "], got ", scores);
  return pushTensor(out, {kDyn, 3}, IntegerType::get(ctx, 64));
}

LogicalResult NonMaxSuppressionOp::verify() {
  for (Value v : {getMaxOutput(), getIouThreshold(), getScoreThreshold()})
    if (v && cast<RankedTensorType>(v.getType()).getNumElements() != 1)
      return emitOpError("max_output and thresholds must hold one value, got ")
             << v.getType();
  return success();
}

LogicalResult UniqueOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &out) {
  KILN_DIAG(UniqueOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  Type i64 = IntegerType::get(ctx, 64);
  int64_t occurrences;
  if (std::optional<int64_t> a = adaptor.getAxis()) {
    FailureOr<int64_t> axis = normalizeAxis(diag, *a, in.getRank());
    if (failed(axis))
      return failure();
    SmallVector<int64_t> shape(in.getShape());
    occurrences = shape[*axis];
    shape[*axis] = kDyn;
    (void)pushTensor(out, shape, in.getElementType());
  } else {
    occurrences = in.hasStaticShape() ? in.getNumElements() : kDyn;
    (void)pushTensor(out, {kDyn}, in.getElementType());
  }
  (void)pushTensor(out, {kDyn}, i64);
  (void)pushTensor(out, {occurrences}, i64);
  return pushTensor(out, {kDyn}, i64);
}

LogicalResult GridSampleOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> location,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &out) {
  KILN_DIAG(GridSampleOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(grid, adaptor.getGrid(), "grid");
  int64_t k = in.getRank() - 2;
  if (k < 1)
    return diag.error("input must be [N, C, spatial...], got ", in);
  if (grid.getRank() != k + 2 || !dimsCompatible(grid.getDimSize(k + 1), k) ||
      !dimsCompatible(grid.getDimSize(0), in.getDimSize(0)))
    return diag.error("grid must be [", in.getDimSize(0), ", out spatial x ", k,
                      ", ", k, "] for a rank-", in.getRank(), " input, got ", grid);
  if (adaptor.getMode() == ResizeMode::cubic && k != 2)
    return diag.error("cubic sampling needs a 2-d input");
  SmallVector<int64_t> shape = {in.getDimSize(0), in.getDimSize(1)};
  for (int64_t i = 0; i < k; ++i)
    shape.push_back(grid.getDimSize(i + 1));
  return pushTensor(out, shape, in.getElementType());
}

LogicalResult RoiAlignOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &out) {
  KILN_DIAG(RoiAlignOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(rois, adaptor.getRois(), "rois");
  KILN_RANKED(idx, adaptor.getBatchIndices(), "batch_indices");
  if (in.getRank() != 4)
    return diag.error("input must be [N, C, H, W], got ", in);
  if (!hasShape(rois, {kDyn, 4}))
    return diag.error("rois must be [R, 4], got ", rois);
  if (!hasShape(idx, {rois.getDimSize(0)}))
    return diag.error("batch_indices must be [", rois.getDimSize(0), "], got ", idx);
  if (adaptor.getMode() == PoolKind::lp)
    return diag.error("mode must be max or avg");
  return pushTensor(out,
                    {rois.getDimSize(0), in.getDimSize(1),
                     (int64_t)adaptor.getOutputHeight(), (int64_t)adaptor.getOutputWidth()},
                    in.getElementType());
}

//===----------------------------------------------------------------------===//
// Linear algebra and signals
//===----------------------------------------------------------------------===//

LogicalResult DetOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                      Adaptor adaptor, SmallVectorImpl<Type> &out) {
  KILN_DIAG(DetOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  int64_t r = in.getRank();
  if (r < 2 || !dimsCompatible(in.getDimSize(r - 1), in.getDimSize(r - 2)))
    return diag.error("input must be [..., M, M], got ", in);
  return pushTensor(out, in.getShape().drop_back(2), in.getElementType());
}

LogicalResult DftOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                      Adaptor adaptor, SmallVectorImpl<Type> &out) {
  KILN_DIAG(DftOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  int64_t r = in.getRank();
  if (r < 2 || !(dimsCompatible(in.getDimSize(r - 1), 1) ||
                 dimsCompatible(in.getDimSize(r - 1), 2)))
    return diag.error("input must end in a real (1) or complex (2) component "
                      "dimension, got ", in);
  FailureOr<int64_t> axis = normalizeAxis(diag, adaptor.getAxis(), r - 1);
  if (failed(axis))
    return failure();
  if (adaptor.getOnesided() && adaptor.getInverse())
    return diag.error("a one-sided inverse transform is not defined");
  int64_t len = adaptor.getLength();
  SmallVector<int64_t> shape(in.getShape());
  shape[*axis] = adaptor.getOnesided() ? len / 2 + 1 : len;
  shape[r - 1] = 2;
  return pushTensor(out, shape, in.getElementType());
}

/// The integer value of a constant scalar operand, if it is one.
static std::optional<int64_t> constantScalar(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.begin()).getSExtValue();
}

LogicalResult StftOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor, SmallVectorImpl<Type> &out) {
  KILN_DIAG(StftOp);
  KILN_RANKED(in, adaptor.getSignal(), "signal");
  KILN_RANKED(window, adaptor.getWindow(), "window");
  if (in.getRank() != 3 || !(dimsCompatible(in.getDimSize(2), 1) ||
                             dimsCompatible(in.getDimSize(2), 2)))
    return diag.error("signal must be [batch, length, 1|2], got ", in);
  if (window && window.getRank() != 1)
    return diag.error("window must be 1-d, got ", window);
  if (!adaptor.getFrameLength() && !window)
    return diag.error("needs a window or a frame_length");
  std::optional<int64_t> step = constantScalar(adaptor.getFrameStep());
  std::optional<int64_t> length = constantScalar(adaptor.getFrameLength());
  int64_t frameLength = adaptor.getFrameLength() ? (length ? *length : kDyn)
                                                 : window.getDimSize(0);
  if (window && !dimsCompatible(window.getDimSize(0), frameLength))
    return diag.error("window has ", window.getDimSize(0), " points, frame_length is ",
                      frameLength);
  if ((step && *step < 1) || (!ShapedType::isDynamic(frameLength) && frameLength < 1))
    return diag.error("frame_step and frame_length must be positive");
  int64_t l = in.getDimSize(1), frames = kDyn;
  if (step && !ShapedType::isDynamic(frameLength) && !ShapedType::isDynamic(l)) {
    if (frameLength > l)
      return diag.error("frame_length ", frameLength, " exceeds the signal length ", l);
    frames = (l - frameLength) / *step + 1;
  }
  int64_t bins = ShapedType::isDynamic(frameLength) ? kDyn
                 : adaptor.getOnesided()            ? frameLength / 2 + 1
                                                    : frameLength;
  return pushTensor(out, {in.getDimSize(0), frames, bins, 2}, in.getElementType());
}

LogicalResult TfIdfOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> location,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  KILN_DIAG(TfIdfOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (in.getRank() != 1 && in.getRank() != 2)
    return diag.error("input must be [N] or [B, N], got ", in);
  int64_t lo = adaptor.getMinGram(), hi = adaptor.getMaxGram();
  if (lo > hi)
    return diag.error("min_gram ", lo, " exceeds max_gram ", hi);
  ArrayRef<int64_t> counts = adaptor.getNgramCounts(),
                    indexes = adaptor.getNgramIndexes(), pool = adaptor.getPool();
  if (counts.empty() || counts.front() != 0 || !llvm::is_sorted(counts) ||
      counts.back() > (int64_t)pool.size())
    return diag.error("ngram_counts must be ascending offsets into pool from 0");
  // pool holds the 1-grams, then the 2-grams, ...: count the n-grams.
  int64_t ngrams = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    int64_t end = i + 1 < counts.size() ? counts[i + 1] : (int64_t)pool.size();
    if ((end - counts[i]) % (int64_t)(i + 1))
      return diag.error("pool section ", i + 1, " does not hold whole ",
                        i + 1, "-grams");
    ngrams += (end - counts[i]) / (int64_t)(i + 1);
  }
  if ((int64_t)indexes.size() != ngrams)
    return diag.error("ngram_indexes has ", indexes.size(), " entries for ",
                      ngrams, " n-grams");
  if (!adaptor.getWeights().empty() &&
      adaptor.getWeights().size() != indexes.size())
    return diag.error("weights must have one entry per n-gram");
  int64_t slots = 0;
  for (int64_t i : indexes) {
    if (i < 0)
      return diag.error("ngram_indexes must be non-negative");
    slots = std::max(slots, i + 1);
  }
  Type f32 = Float32Type::get(ctx);
  if (in.getRank() == 1)
    return pushTensor(out, {slots}, f32);
  return pushTensor(out, {in.getDimSize(0), slots}, f32);
}
