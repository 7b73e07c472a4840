//===- KilnNNOps.cpp - conv, pooling, padding, resize ---------------------===//

#include "dialects/kiln/IR/OpHelpers.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

KILN_INFER_VIA_ADAPTOR(PadOp)
KILN_INFER_VIA_ADAPTOR(ConvOp)
KILN_INFER_VIA_ADAPTOR(ConvTransposeOp)
KILN_INFER_VIA_ADAPTOR(PoolOp)

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(PadOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(value, adaptor.getValue(), "value");
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t r = in.getRank();
  if (Value rp = adaptor.getRuntimePads()) {
    FailureOr<int64_t> nOrErr = vectorLength(diag, rp, "runtime pads");
    if (failed(nOrErr))
      return failure();
    int64_t n = *nOrErr;
    if (!pads.empty())
      return diag.error("give pads as an attribute or an operand, not both");
    if (!ShapedType::isDynamic(n) && n != 2 * r)
      return diag.error("runtime pads have ", n, " entries, expected ", 2 * r);
    return pushTensor(inferred, SmallVector<int64_t>(r, ShapedType::kDynamic),
                      in.getElementType());
  }
  if ((int64_t)pads.size() != 2 * r)
    return diag.error("pads has ", pads.size(), " entries, expected ", 2 * r,
                      " (begin and end for each of ", r, " dimensions)");
  if (value) {
    if (value.getRank() > 1 || (value.getRank() == 1 && value.getDimSize(0) != 1))
      return diag.error("value must be a scalar, got ", value);
    if (value.getElementType() != in.getElementType())
      return diag.error("value has element type ", value.getElementType(),
                        ", expected ", in.getElementType());
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < r; ++i) {
    int64_t d = in.getDimSize(i);
    if (ShapedType::isDynamic(d)) {
      shape.push_back(d);
      continue;
    }
    int64_t o = d + pads[i] + pads[i + r];
    if (o < 0)
      return diag.error("pads ", pads[i], " and ", pads[i + r],
                        " crop dimension ", i, " of size ", d, " below zero");
    shape.push_back(o);
  }
  return pushTensor(inferred, shape, in.getElementType());
}

/// Checks the spatial attributes shared by conv and pool ops.
static LogicalResult checkWindowAttrs(const ShapeDiag &diag, int64_t k,
                                      ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations) {
  if ((int64_t)strides.size() != k || (int64_t)dilations.size() != k ||
      (int64_t)pads.size() != 2 * k)
    return diag.error("for ", k, " spatial dimensions expected ", k,
                      " strides, ", k, " dilations and ", 2 * k,
                      " pads, got ", strides.size(), ", ", dilations.size(),
                      " and ", pads.size());
  for (int64_t i = 0; i < k; ++i) {
    if (strides[i] < 1 || dilations[i] < 1)
      return diag.error("strides and dilations must be positive");
    if (pads[i] < 0 || pads[i + k] < 0)
      return diag.error("pads must be non-negative");
  }
  return success();
}

/// Output extent of a window op along one dimension (dynamic stays dynamic).
static FailureOr<int64_t> windowExtent(const ShapeDiag &diag, int64_t d,
                                       int64_t kernel, int64_t stride,
                                       int64_t padBegin, int64_t padEnd,
                                       int64_t dilation, bool ceil) {
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(kernel))
    return ShapedType::kDynamic;
  int64_t span = (kernel - 1) * dilation + 1;
  int64_t avail = d + padBegin + padEnd - span;
  if (avail < 0)
    return diag.error("the window (", span, " with dilation) is larger than "
                      "the padded input (", d + padBegin + padEnd, ")");
  int64_t o = (ceil ? (avail + stride - 1) / stride : avail / stride) + 1;
  // A window may not start in the end padding (ONNX/PyTorch ceil rule).
  if (ceil && (o - 1) * stride >= d + padBegin)
    --o;
  return o;
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ConvOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(w, adaptor.getWeight(), "weight");
  KILN_RANKED(bias, adaptor.getBias(), "bias");
  int64_t r = in.getRank(), k = r - 2, group = adaptor.getGroup();
  if (r < 3)
    return diag.error("input must be [N, C, spatial...], got rank ", r);
  if (w.getRank() != r)
    return diag.error("weight must have the input's rank (", r, "), got ", w);
  if (failed(checkSameElementType(diag, {in, w}, {"input", "weight"})) ||
      failed(checkWindowAttrs(diag, k, adaptor.getStrides(), adaptor.getPads(),
                              adaptor.getDilations())))
    return failure();
  if (group < 1)
    return diag.error("group must be positive");
  int64_t c = in.getDimSize(1), wc = w.getDimSize(1), m = w.getDimSize(0);
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(wc) && c != wc * group)
    return diag.error("input has ", c, " channels but weight expects ",
                      wc * group, " (", wc, " per group x ", group, " groups)");
  if (!ShapedType::isDynamic(m) && m % group)
    return diag.error("output channels (", m, ") are not divisible by group ", group);
  if (bias && (bias.getRank() != 1 || !dimsCompatible(bias.getDimSize(0), m)))
    return diag.error("bias must be [", m, "], got ", bias);
  SmallVector<int64_t> shape = {in.getDimSize(0), m};
  for (int64_t i = 0; i < k; ++i) {
    FailureOr<int64_t> o = windowExtent(
        diag, in.getDimSize(i + 2), w.getDimSize(i + 2), adaptor.getStrides()[i],
        adaptor.getPads()[i], adaptor.getPads()[i + k], adaptor.getDilations()[i],
        false);
    if (failed(o))
      return failure();
    shape.push_back(*o);
  }
  return pushTensor(inferred, shape, in.getElementType());
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ConvTransposeOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(w, adaptor.getWeight(), "weight");
  KILN_RANKED(bias, adaptor.getBias(), "bias");
  int64_t r = in.getRank(), k = r - 2, group = adaptor.getGroup();
  if (r < 3 || w.getRank() != r)
    return diag.error("input and weight must be [N, C, spatial...] of equal rank");
  if (failed(checkSameElementType(diag, {in, w}, {"input", "weight"})) ||
      failed(checkWindowAttrs(diag, k, adaptor.getStrides(), adaptor.getPads(),
                              adaptor.getDilations())))
    return failure();
  if ((int64_t)adaptor.getOutputPadding().size() != k)
    return diag.error("output_padding needs ", k, " entries");
  if (group < 1)
    return diag.error("group must be positive");
  if (!dimsCompatible(in.getDimSize(1), w.getDimSize(0)))
    return diag.error("input has ", in.getDimSize(1), " channels but weight has ",
                      w.getDimSize(0));
  int64_t m = ShapedType::isDynamic(w.getDimSize(1)) ? ShapedType::kDynamic
                                                     : w.getDimSize(1) * group;
  if (bias && (bias.getRank() != 1 || !dimsCompatible(bias.getDimSize(0), m)))
    return diag.error("bias must be [", m, "], got ", bias);
  SmallVector<int64_t> shape = {in.getDimSize(0), m};
  for (int64_t i = 0; i < k; ++i) {
    int64_t d = in.getDimSize(i + 2), kk = w.getDimSize(i + 2);
    if (ShapedType::isDynamic(d) || ShapedType::isDynamic(kk)) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t o = adaptor.getStrides()[i] * (d - 1) + adaptor.getOutputPadding()[i] +
                (kk - 1) * adaptor.getDilations()[i] + 1 - adaptor.getPads()[i] -
                adaptor.getPads()[i + k];
    if (o <= 0)
      return diag.error("output extent of spatial dimension ", i,
                        " would be ", o);
    shape.push_back(o);
  }
  return pushTensor(inferred, shape, in.getElementType());
}

LogicalResult PoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(PoolOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  int64_t r = in.getRank(), k = r - 2;
  if (r < 3)
    return diag.error("input must be [N, C, spatial...], got rank ", r);
  Type e = in.getElementType();
  if (adaptor.getKind() == PoolKind::max ? !isFloat(e) && !isInt(e) : !isFloat(e))
    return diag.error(adaptor.getKind() == PoolKind::max
                          ? "max pooling needs a numeric tensor, got "
                          : "average and Lp pooling need a floating-point tensor, got ",
                      e);
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  if ((int64_t)kernel.size() != k)
    return diag.error("kernel has ", kernel.size(), " entries for ", k,
                      " spatial dimensions");
  if (failed(checkWindowAttrs(diag, k, adaptor.getStrides(), adaptor.getPads(),
                              adaptor.getDilations())))
    return failure();
  SmallVector<int64_t> shape = {in.getDimSize(0), in.getDimSize(1)};
  for (int64_t i = 0; i < k; ++i) {
    if (kernel[i] < 1)
      return diag.error("kernel sizes must be positive");
    FailureOr<int64_t> o = windowExtent(
        diag, in.getDimSize(i + 2), kernel[i], adaptor.getStrides()[i],
        adaptor.getPads()[i], adaptor.getPads()[i + k], adaptor.getDilations()[i],
        adaptor.getCeilMode());
    if (failed(o))
      return failure();
    shape.push_back(*o);
  }
  if (adaptor.getWithIndices() && adaptor.getKind() != PoolKind::max)
    return diag.error("only max pooling returns indices");
  (void)pushTensor(inferred, shape, in.getElementType());
  if (adaptor.getWithIndices())
    (void)pushTensor(inferred, shape, IntegerType::get(in.getContext(), 64));
  return success();
}

LogicalResult ResizeOp::verify() {
  ShapeDiag diag{getLoc(), getOperationName()};
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getRank() != out.getRank())
    return diag.error("result rank ", out.getRank(), " differs from input rank ",
                      in.getRank());
  if (in.getElementType() != out.getElementType())
    return diag.error("result element type differs from the input's");
  if (std::optional<ArrayRef<float>> scales = getScales()) {
    if ((int64_t)scales->size() != in.getRank())
      return diag.error("scales has ", scales->size(), " entries for rank ",
                        in.getRank());
    for (float s : *scales)
      if (!(s > 0))
        return diag.error("scales must be positive");
  }
  if (getRuntimeScales() && getRuntimeSizes())
    return diag.error("give runtime scales or runtime sizes, not both");
  for (Value v : {getRuntimeScales(), getRuntimeSizes()}) {
    if (!v)
      continue;
    FailureOr<int64_t> nOrErr = vectorLength(diag, v, "runtime scales/sizes");
    if (failed(nOrErr))
      return failure();
    int64_t n = *nOrErr;
    if (!ShapedType::isDynamic(n) && n != in.getRank())
      return diag.error("runtime scales/sizes have ", n, " entries for rank ",
                        in.getRank());
  }
  if (getMode() != ResizeMode::nearest && !isFloat(in.getElementType()))
    return diag.error("linear and cubic modes need a floating-point tensor");
  StringRef ctm = getCoordinateTransformationMode();
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" &&
      ctm != "asymmetric" && ctm != "tf_crop_and_resize" &&
      ctm != "half_pixel_symmetric" && ctm != "tf_half_pixel_for_nn")
    return diag.error("unknown coordinate_transformation_mode '", ctm, "'");
  StringRef nm = getNearestMode();
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" &&
      nm != "ceil")
    return diag.error("unknown nearest_mode '", nm, "'");
  return success();
}
