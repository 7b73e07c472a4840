//===- Conv.cpp - ONNX convolution, pooling, padding, resize --------------===//
//
// auto_pad and output_shape are resolved to explicit pads here, so kiln ops
// only ever carry explicit (begin..., end...) pads.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "lib/support/CheckedSize.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

struct Window {
  SmallVector<int64_t> kernel, strides, pads, dilations;
};

/// Reads kernel/strides/dilations/pads/auto_pad for `k` spatial dims.
/// `kernel` comes from the attribute or, for conv, the weight shape.
FailureOr<Window> readWindow(NodeImporter &n, RankedTensorType in,
                             ArrayRef<int64_t> kernel) {
  int64_t k = in.getRank() - 2;
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = n.attrInts("strides").value_or(SmallVector<int64_t>(k, 1));
  w.dilations = n.attrInts("dilations").value_or(SmallVector<int64_t>(k, 1));
  w.pads = n.attrInts("pads").value_or(SmallVector<int64_t>(2 * k, 0));
  if ((int64_t)w.strides.size() != k || (int64_t)w.dilations.size() != k ||
      (int64_t)w.pads.size() != 2 * k || (int64_t)w.kernel.size() != k) {
    (void)n.error("kernel_shape/strides/dilations/pads do not match " +
                  std::to_string(k) + " spatial dimensions");
    return failure();
  }
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    w.pads.assign(2 * k, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < k; ++i) {
      int64_t d = in.getDimSize(i + 2);
      if (ShapedType::isDynamic(d) || ShapedType::isDynamic(w.kernel[i])) {
        (void)n.unsupported("auto_pad " + autoPad + " on a dynamic spatial "
                            "dimension");
        return failure();
      }
      int64_t out = (d + w.strides[i] - 1) / w.strides[i];
      int64_t span = (w.kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + span - d);
      int64_t small = total / 2, big = total - small;
      w.pads[i] = autoPad == "SAME_UPPER" ? small : big;
      w.pads[i + k] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad != "NOTSET") {
    (void)n.error("unknown auto_pad '" + autoPad + "'");
    return failure();
  }
  return w;
}

SmallVector<int64_t> spatialDims(RankedTensorType t) {
  return SmallVector<int64_t>(t.getShape().drop_front(2));
}

LogicalResult convertConv(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), w = n.required(1);
  if (failed(x) || failed(w))
    return failure();
  Value y = importConv(n, *x, *w, n.input(2));
  if (!y)
    return failure();
  n.setOutput(0, y);
  return success();
}

LogicalResult convertConvTranspose(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), w = n.required(1);
  if (failed(x) || failed(w))
    return failure();
  auto in = n.inputType(0), wt = n.inputType(1);
  int64_t k = in.getRank() - 2;
  if (k < 1 || wt.getRank() != in.getRank())
    return n.error("expects [N, C, spatial...] input and weight of the same rank");
  SmallVector<int64_t> kernel = n.attrInts("kernel_shape").value_or(spatialDims(wt));
  SmallVector<int64_t> strides = n.attrInts("strides").value_or(SmallVector<int64_t>(k, 1));
  SmallVector<int64_t> dil = n.attrInts("dilations").value_or(SmallVector<int64_t>(k, 1));
  SmallVector<int64_t> pads = n.attrInts("pads").value_or(SmallVector<int64_t>(2 * k, 0));
  SmallVector<int64_t> outPad =
      n.attrInts("output_padding").value_or(SmallVector<int64_t>(k, 0));
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  std::optional<SmallVector<int64_t>> outShape = n.attrInts("output_shape");
  if (outShape && (int64_t)outShape->size() > k) // full [N, C, ...] given
    outShape = SmallVector<int64_t>(outShape->end() - k, outShape->end());
  if (!outShape && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")) {
    outShape.emplace();
    for (int64_t i = 0; i < k; ++i)
      outShape->push_back(in.getDimSize(i + 2) * strides[i]);
  }
  if (outShape) {
    if ((int64_t)outShape->size() != k)
      return n.error("output_shape has the wrong number of entries");
    for (int64_t i = 0; i < k; ++i) {
      int64_t d = in.getDimSize(i + 2);
      if (ShapedType::isDynamic(d) || ShapedType::isDynamic(kernel[i]))
        return n.unsupported("output_shape with dynamic spatial dimensions");
      int64_t total = strides[i] * (d - 1) + outPad[i] +
                      ((kernel[i] - 1) * dil[i] + 1) - (*outShape)[i];
      if (total < 0) {
        // A larger output than the stride gives: extra output padding.
        outPad[i] += -total;
        total = 0;
      }
      int64_t half = total / 2;
      bool upper = autoPad != "SAME_LOWER";
      pads[i] = upper ? half : total - half;
      pads[i + k] = upper ? total - half : half;
    }
  } else if (autoPad == "VALID") {
    pads.assign(2 * k, 0);
  }
  n.setOutput(0, n.create<ConvTransposeOp>(*x, *w, n.input(2), strides, pads, dil,
                                           outPad, n.attrInt("group", 1)));
  return success();
}

LogicalResult convertPool(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  StringRef op = n.opType();
  auto in = n.inputType(0);
  if (in.getRank() < 3)
    return n.error("expects an [N, C, spatial...] input");
  auto kernel = n.attrInts("kernel_shape");
  if (!kernel)
    return n.error("kernel_shape is required");
  FailureOr<Window> win = readWindow(n, in, *kernel);
  if (failed(win))
    return failure();
  PoolKind kind = op == "MaxPool" ? PoolKind::max
                  : op == "AveragePool" ? PoolKind::avg
                                        : PoolKind::lp;
  bool ceil = n.attrInt("ceil_mode", 0);
  bool countPad = n.attrInt("count_include_pad", 0);
  bool indices = kind == PoolKind::max && n.hasOutput(1);
  auto pool = n.createOp<PoolOp>(kind, *x, win->kernel, win->strides, win->pads,
                                 win->dilations, ceil, countPad,
                                 (uint64_t)n.attrInt("p", 2), indices,
                                 indices && n.attrInt("storage_order", 0) != 0);
  if (!pool)
    return failure();
  n.setOutput(0, pool.getResult());
  if (indices)
    n.setOutput(1, pool.getIndices());
  return success();
}

/// MaxUnpool scatters each value to its flat index in a zero tensor of the
/// output shape (given, or the inverse of the pooling window).
LogicalResult convertMaxUnpool(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), idx = n.required(1);
  if (failed(x) || failed(idx))
    return failure();
  auto in = n.inputType(0);
  auto kernel = n.attrInts("kernel_shape");
  if (!kernel || in.getRank() < 3)
    return n.error("expects an [N, C, spatial...] input and kernel_shape");
  if (!in.hasStaticShape())
    return n.unsupported("MaxUnpool of a dynamic input");
  Type elt = in.getElementType();
  Value flatIdx = n.reshape(n.castTo(*idx, n.b.getI64Type()), {in.getNumElements()});
  Value flatX = n.reshape(*x, {in.getNumElements()});
  auto scatter = [&](Value zeros) {
    return n.create<ScatterElementsOp>(
        zeros, flatIdx, flatX, n.b.getI64IntegerAttr(0),
        ScatterReductionAttr::get(n.b.getContext(), ScatterReduction::none));
  };
  SmallVector<int64_t> shape;
  if (Value given = n.input(2)) {
    auto known = n.constInts(given);
    if (!known) { // output_shape known at run time only
      SmallVector<int64_t> dyn(in.getRank(), ShapedType::kDynamic);
      Value zeros = n.create<ExpandOp>(RankedTensorType::get(dyn, elt),
                                       n.splat(elt, 0.0), given);
      zeros = n.create<ReshapeOp>(RankedTensorType::get({ShapedType::kDynamic}, elt),
                                  zeros, Value());
      n.setOutput(0, n.create<ReshapeOp>(RankedTensorType::get(dyn, elt),
                                         scatter(zeros), given));
      return success();
    }
    shape = *known;
  } else {
    FailureOr<Window> win = readWindow(n, in, *kernel);
    if (failed(win))
      return failure();
    int64_t k = in.getRank() - 2;
    shape = {in.getDimSize(0), in.getDimSize(1)};
    for (int64_t i = 0; i < k; ++i)
      shape.push_back((in.getDimSize(i + 2) - 1) * win->strides[i] + (*kernel)[i] -
                      win->pads[i] - win->pads[i + k]);
  }
  if ((int64_t)shape.size() != in.getRank())
    return n.error("output_shape must have the input's rank");
  std::optional<uint64_t> total = checkedElementCount(shape);
  if (!total)
    return n.error("output_shape " + shapeToString(shape) +
                   " has a negative dim or is larger than kiln accepts (2^48 bytes)");
  n.setOutput(0, n.reshape(scatter(n.splat(elt, 0.0, {(int64_t)*total})), shape));
  return success();
}

LogicalResult convertPad(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto in = n.inputType(0);
  int64_t r = in.getRank();
  std::optional<SmallVector<int64_t>> pads;
  Value value;
  if (n.opset < 11) {
    pads = n.attrInts("pads");
    value = n.splat(in.getElementType(), n.attrFloat("value", 0.0f));
  } else {
    pads = n.constInts(n.input(1));
    value = n.input(2);
    if (value && cast<RankedTensorType>(value.getType()).getRank() == 1)
      value = n.reshape(value, {});
  }
  if (!pads) {
    if (n.opset >= 18 && n.input(3))
      return n.unsupported("run-time pads together with axes");
    std::string modeName = n.attrString("mode", "constant");
    std::optional<PadMode> mode = symbolizePadMode(modeName);
    if (!mode)
      return n.error("unknown mode '" + modeName + "'");
    n.setOutput(0, n.create<PadOp>(*x, value, n.castTo(n.input(1), n.b.getI64Type()),
                                   ArrayRef<int64_t>{}, *mode));
    return success();
  }
  // Opset 18: pads may cover only the listed axes.
  if (n.opset >= 18 && n.input(3)) {
    auto axes = n.constInts(n.input(3));
    if (!axes)
      return n.unsupported("axes computed at run time");
    int64_t a = axes->size();
    if ((int64_t)pads->size() != 2 * a)
      return n.error("pads must have twice as many entries as axes");
    SmallVector<int64_t> full(2 * r, 0);
    for (int64_t i = 0; i < a; ++i) {
      int64_t axis = (*axes)[i] < 0 ? (*axes)[i] + r : (*axes)[i];
      if (axis < 0 || axis >= r)
        return n.error("axis out of range");
      full[axis] = (*pads)[i];
      full[axis + r] = (*pads)[i + a];
    }
    pads = full;
  }
  std::string modeName = n.attrString("mode", "constant");
  std::optional<PadMode> mode = symbolizePadMode(modeName);
  if (!mode)
    return n.error("unknown mode '" + modeName + "'");
  n.setOutput(0, n.create<PadOp>(*x, value, Value(), *pads, *mode));
  return success();
}

/// The interpolation attributes of a Resize node, shared by both paths.
struct ResizeAttrs {
  ResizeModeAttr mode;
  StringAttr ctm, nearest;
};
FailureOr<ResizeAttrs> resizeAttrs(NodeImporter &n) {
  std::string modeName = n.attrString("mode", "nearest");
  std::optional<ResizeMode> mode = symbolizeResizeMode(modeName);
  if (!mode) {
    (void)n.error("unknown mode '" + modeName + "'");
    return failure();
  }
  bool legacy = n.opType() == "Upsample" || n.opset < 11;
  std::string ctm = legacy ? "asymmetric"
                           : n.attrString("coordinate_transformation_mode", "half_pixel");
  if (ctm == "tf_crop_and_resize") {
    (void)n.unsupported("coordinate_transformation_mode tf_crop_and_resize");
    return failure();
  }
  std::string nearest = legacy ? "floor" : n.attrString("nearest_mode", "round_prefer_floor");
  return ResizeAttrs{ResizeModeAttr::get(n.b.getContext(), *mode),
                     n.b.getStringAttr(ctm), n.b.getStringAttr(nearest)};
}

/// Scales or sizes known only at run time: every resized extent is dynamic
/// (ONNX shape inference may still know the output type).
LogicalResult convertRuntimeResize(NodeImporter &n, Value x, Value scales,
                                   Value sizes) {
  if (n.hasAttr("axes") || n.attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
    return n.unsupported("run-time scales/sizes with axes or an aspect-ratio policy");
  FailureOr<ResizeAttrs> a = resizeAttrs(n);
  if (failed(a))
    return failure();
  auto in = cast<RankedTensorType>(x.getType());
  RankedTensorType type = n.declaredOutputType(0);
  if (!type || type.getRank() != in.getRank())
    type = RankedTensorType::get(
        SmallVector<int64_t>(in.getRank(), ShapedType::kDynamic), in.getElementType());
  if (sizes)
    sizes = n.castTo(sizes, n.b.getI64Type());
  n.setOutput(0, n.create<ResizeOp>(
                     type, x, scales, sizes, a->mode, DenseF32ArrayAttr(), a->ctm,
                     a->nearest, n.b.getF32FloatAttr(n.attrFloat("cubic_coeff_a", -0.75f)),
                     n.attrInt("exclude_outside", 0) ? n.b.getUnitAttr() : UnitAttr(),
                     n.b.getF32FloatAttr(n.attrFloat("extrapolation_value", 0.0f))));
  return success();
}

LogicalResult convertResize(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto in = n.inputType(0);
  int64_t r = in.getRank();
  StringRef op = n.opType();
  std::optional<SmallVector<double>> scales;
  std::optional<SmallVector<int64_t>> sizes;
  if (op == "Upsample" || n.opset < 11) {
    if (op == "Upsample" && n.opset < 9) {
      if (auto f = n.attrFloats("scales"))
        scales = SmallVector<double>(f->begin(), f->end());
    } else {
      scales = n.constFloats(n.input(1));
      if (!scales && n.input(1))
        return convertRuntimeResize(n, *x, n.input(1), Value());
    }
  } else {
    if (n.input(2))
      scales = n.constFloats(n.input(2));
    if (n.input(3))
      sizes = n.constInts(n.input(3));
    if (scales && scales->empty())
      scales.reset();
    bool emptyScales = n.input(2) && cast<RankedTensorType>(n.input(2).getType())
                                             .getNumElements() == 0;
    Value runtimeScales = (n.input(2) && !scales && !emptyScales) ? n.input(2) : Value();
    Value runtimeSizes = (n.input(3) && !sizes) ? n.input(3) : Value();
    if (runtimeScales || runtimeSizes)
      return convertRuntimeResize(n, *x, runtimeScales, runtimeSizes);
  }
  if (n.attrInt("antialias", 0))
    return n.unsupported("antialiased Resize");
  // Opset 18: scales/sizes may cover only the listed axes.
  SmallVector<int64_t> axes;
  if (auto a = n.attrInts("axes")) {
    for (int64_t v : *a)
      axes.push_back(v < 0 ? v + r : v);
  } else {
    for (int64_t i = 0; i < r; ++i)
      axes.push_back(i);
  }
  if (!in.hasStaticShape())
    return n.unsupported("Resize of a dynamic shape");
  SmallVector<float> fullScales(r, 1.0f);
  SmallVector<int64_t> out(in.getShape());
  if (sizes) {
    if (sizes->size() != axes.size())
      return n.error("sizes does not match the axes");
    std::string policy = n.attrString("keep_aspect_ratio_policy", "stretch");
    double common = policy == "not_larger" ? 1e300 : 0;
    for (size_t i = 0; i < axes.size(); ++i) {
      double s = (double)(*sizes)[i] / in.getDimSize(axes[i]);
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i];
      if (policy == "stretch") {
        out[a] = (*sizes)[i];
        fullScales[a] = (float)out[a] / in.getDimSize(a);
      } else {
        out[a] = (int64_t)std::round(common * in.getDimSize(a));
        fullScales[a] = (float)common;
      }
    }
  } else if (scales) {
    if (scales->size() != axes.size())
      return n.error("scales does not match the axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i];
      fullScales[a] = (float)(*scales)[i];
      out[a] = (int64_t)std::floor(in.getDimSize(a) * (*scales)[i]);
    }
  } else {
    return n.error("needs scales or sizes");
  }
  std::string modeName = n.attrString("mode", "nearest");
  std::optional<ResizeMode> mode = symbolizeResizeMode(modeName);
  if (!mode)
    return n.error("unknown mode '" + modeName + "'");
  std::string ctm = (op == "Upsample" || n.opset < 11)
                        ? "asymmetric"
                        : n.attrString("coordinate_transformation_mode", "half_pixel");
  if (ctm == "tf_crop_and_resize")
    return n.unsupported("coordinate_transformation_mode tf_crop_and_resize");
  auto type = RankedTensorType::get(out, in.getElementType());
  std::string nearest = (op == "Upsample" || n.opset < 11)
                            ? "floor"
                            : n.attrString("nearest_mode", "round_prefer_floor");
  n.setOutput(0, n.create<ResizeOp>(
                     type, *x, Value(), Value(),
                     ResizeModeAttr::get(n.b.getContext(), *mode),
                     n.b.getDenseF32ArrayAttr(fullScales), n.b.getStringAttr(ctm),
                     n.b.getStringAttr(nearest),
                     n.b.getF32FloatAttr(n.attrFloat("cubic_coeff_a", -0.75f)),
                     n.attrInt("exclude_outside", 0) ? n.b.getUnitAttr() : UnitAttr(),
                     n.b.getF32FloatAttr(n.attrFloat("extrapolation_value", 0.0f))));
  return success();
}

} // namespace

Value importConv(NodeImporter &n, Value x, Value w, Value bias) {
  if (!x || !w) // an earlier create of this node failed (and said why)
    return {};
  auto in = cast<RankedTensorType>(x.getType()),
       wt = cast<RankedTensorType>(w.getType());
  if (in.getRank() < 3 || wt.getRank() != in.getRank()) {
    (void)n.error("expects [N, C, spatial...] input and weight of the same rank");
    return {};
  }
  SmallVector<int64_t> kernel =
      n.attrInts("kernel_shape").value_or(spatialDims(wt));
  FailureOr<Window> win = readWindow(n, in, kernel);
  if (failed(win))
    return {};
  return n.create<ConvOp>(x, w, bias, win->strides, win->pads, win->dilations,
                          n.attrInt("group", 1));
}

void registerConvOps(OpRegistry &r) {
  r.add("Conv", 1, convertConv);
  r.add("ConvTranspose", 1, convertConvTranspose);
  r.add("MaxPool", 1, convertPool);
  r.add("MaxUnpool", 9, convertMaxUnpool);
  r.add("AveragePool", 1, convertPool);
  r.add("LpPool", 1, convertPool);
  r.add("Pad", 1, convertPad);
  r.add("Resize", 10, convertResize);
  r.add("Upsample", 7, convertResize);
}

} // namespace kiln::onnx_frontend
