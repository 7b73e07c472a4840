//===- Special.cpp - ONNX random, recurrent, detection and signal ops -----===//
//
// Ops that map one-to-one onto kiln's special-purpose ops
// (KilnSpecialOps.td).
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

FloatAttr seedAttr(NodeImporter &n) {
  return n.hasAttr("seed") ? n.b.getF64FloatAttr(n.attrFloat("seed", 0))
                           : FloatAttr();
}

/// A uniform [0, 1) tensor shaped like `like`, of `like`'s (float) type.
Value uniformLike(NodeImporter &n, Value like) {
  if (!like) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(like.getType());
  return n.create<RandomOp>(t, RandomDist::uniform, like, APFloat(0.0),
                            APFloat(1.0), seedAttr(n));
}

//===--- random ------------------------------------------------------------===//

/// RandomUniform / RandomNormal (shape attribute) and their *Like forms.
LogicalResult convertRandom(NodeImporter &n) {
  bool normal = n.opType().starts_with("RandomNormal");
  bool like = n.opType().ends_with("Like");
  double a = normal ? n.attrFloat("mean", 0) : n.attrFloat("low", 0);
  double b = normal ? n.attrFloat("scale", 1) : n.attrFloat("high", 1);
  Value source;
  SmallVector<int64_t> shape;
  Type elt;
  if (like) {
    FailureOr<Value> x = n.required(0);
    if (failed(x))
      return failure();
    source = *x;
    shape.assign(n.inputType(0).getShape().begin(), n.inputType(0).getShape().end());
    elt = n.inputType(0).getElementType();
  } else {
    auto s = n.attrInts("shape");
    if (!s)
      return n.error("the shape attribute is required");
    shape = *s;
    elt = n.b.getF32Type();
  }
  if (n.hasAttr("dtype"))
    elt = convertElementType(n.b.getContext(), (int32_t)n.attrInt("dtype", 1));
  if (!isa_and_nonnull<FloatType>(elt))
    return n.error("random values must have a floating-point dtype");
  // The *Like shape source may be any type: only its shape is used.
  n.setOutput(0, n.create<RandomOp>(RankedTensorType::get(shape, elt),
                                    normal ? RandomDist::normal : RandomDist::uniform,
                                    source, APFloat(a), APFloat(b), seedAttr(n)));
  return success();
}

/// Bernoulli(p): 1 where a uniform draw falls below p.
LogicalResult convertBernoulli(NodeImporter &n) {
  FailureOr<Value> p = n.required(0);
  if (failed(p))
    return failure();
  Type out = n.inputType(0).getElementType();
  if (n.hasAttr("dtype"))
    out = convertElementType(n.b.getContext(), (int32_t)n.attrInt("dtype", 1));
  if (!out)
    return n.error("unsupported dtype");
  Value hit = n.create<CompareOp>(CompareKind::lt, uniformLike(n, *p), *p);
  n.setOutput(0, n.castTo(hit, out));
  return success();
}

//===--- recurrent ---------------------------------------------------------===//

LogicalResult convertRecurrent(NodeImporter &n) {
  RnnKind kind = llvm::StringSwitch<RnnKind>(n.opType())
                     .Case("GRU", RnnKind::gru)
                     .Case("LSTM", RnnKind::lstm)
                     .Default(RnnKind::rnn);
  FailureOr<Value> x = n.required(0), w = n.required(1), r = n.required(2);
  if (failed(x) || failed(w) || failed(r))
    return failure();
  std::string dirName = n.attrString("direction", "forward");
  std::optional<RnnDirection> dir = symbolizeRnnDirection(dirName);
  if (!dir)
    return n.error("unknown direction '" + dirName + "'");
  int64_t dirs = *dir == RnnDirection::bidirectional ? 2 : 1;
  int64_t hidden = n.attrInt("hidden_size", n.inputType(2).getDimSize(2));
  if (hidden <= 0)
    return n.error("hidden_size is missing and R's shape does not give it");

  static constexpr llvm::StringLiteral known[] = {
      "Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu",
      "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"};
  SmallVector<Attribute> acts;
  if (auto names = n.attrStrings("activations")) {
    for (const std::string &name : *names) {
      if (!llvm::is_contained(known, name))
        return n.unsupported("activation '" + name + "'");
      acts.push_back(n.b.getStringAttr(name));
    }
  } else {
    SmallVector<StringRef> dflt;
    if (kind == RnnKind::rnn)
      dflt = {"Tanh"};
    else if (kind == RnnKind::gru)
      dflt = {"Sigmoid", "Tanh"};
    else
      dflt = {"Sigmoid", "Tanh", "Tanh"};
    for (int64_t d = 0; d < dirs; ++d)
      for (StringRef name : dflt)
        acts.push_back(n.b.getStringAttr(name));
  }
  auto floats = [&](StringRef name) {
    SmallVector<float> v = n.attrFloats(name).value_or(SmallVector<float>{});
    return n.b.getF32ArrayAttr(v);
  };
  FloatAttr clip = n.hasAttr("clip") ? n.b.getF64FloatAttr(n.attrFloat("clip", 0))
                                     : FloatAttr();
  bool lstm = kind == RnnKind::lstm;
  auto op = n.createOp<RnnOp>(
      kind, *x, *w, *r, n.input(3), n.input(4), n.input(5),
      lstm ? n.input(6) : Value(), lstm ? n.input(7) : Value(),
      (uint64_t)hidden, *dir, n.b.getArrayAttr(acts), floats("activation_alpha"),
      floats("activation_beta"), clip, n.attrInt("linear_before_reset", 0) != 0,
      n.attrInt("input_forget", 0) != 0, n.attrInt("layout", 0) != 0);
  if (!op)
    return failure();
  n.setOutput(0, op.getY());
  n.setOutput(1, op.getYH());
  if (lstm)
    n.setOutput(2, op.getYC());
  return success();
}

//===--- detection and sampling --------------------------------------------===//

LogicalResult convertNonMaxSuppression(NodeImporter &n) {
  FailureOr<Value> boxes = n.required(0), scores = n.required(1);
  if (failed(boxes) || failed(scores))
    return failure();
  n.setOutput(0, n.create<NonMaxSuppressionOp>(
                     *boxes, *scores, n.input(2), n.input(3), n.input(4),
                     n.attrInt("center_point_box", 0) != 0));
  return success();
}

LogicalResult convertUnique(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  IntegerAttr axis = n.hasAttr("axis") ? n.b.getI64IntegerAttr(n.attrInt("axis", 0))
                                       : IntegerAttr();
  auto op = n.createOp<UniqueOp>(*x, axis, n.attrInt("sorted", 1) != 0);
  if (!op)
    return failure();
  for (unsigned i = 0; i < 4; ++i)
    n.setOutput(i, op->getResult(i));
  return success();
}

LogicalResult convertGridSample(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), grid = n.required(1);
  if (failed(x) || failed(grid))
    return failure();
  std::string mode = n.attrString("mode", n.opset >= 20 ? "linear" : "bilinear");
  std::optional<ResizeMode> m = llvm::StringSwitch<std::optional<ResizeMode>>(mode)
                                    .Cases({"bilinear", "linear"}, ResizeMode::linear)
                                    .Cases({"bicubic", "cubic"}, ResizeMode::cubic)
                                    .Case("nearest", ResizeMode::nearest)
                                    .Default(std::nullopt);
  if (!m)
    return n.error("unknown mode '" + mode + "'");
  std::string padName = n.attrString("padding_mode", "zeros");
  std::optional<GridPadding> pad = symbolizeGridPadding(padName);
  if (!pad)
    return n.error("unknown padding_mode '" + padName + "'");
  n.setOutput(0, n.create<GridSampleOp>(*x, *grid, *m, *pad,
                                        n.attrInt("align_corners", 0) != 0));
  return success();
}

LogicalResult convertRoiAlign(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), rois = n.required(1), idx = n.required(2);
  if (failed(x) || failed(rois) || failed(idx))
    return failure();
  std::string mode = n.attrString("mode", "avg");
  if (mode != "avg" && mode != "max")
    return n.error("unknown mode '" + mode + "'");
  std::string ctm = n.attrString("coordinate_transformation_mode",
                                 n.opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return n.error("unknown coordinate_transformation_mode '" + ctm + "'");
  n.setOutput(0, n.create<RoiAlignOp>(
                     *x, *rois, *idx, mode == "max" ? PoolKind::max : PoolKind::avg,
                     (uint64_t)n.attrInt("output_height", 1),
                     (uint64_t)n.attrInt("output_width", 1),
                     (uint64_t)n.attrInt("sampling_ratio", 0),
                     APFloat(n.attrFloat("spatial_scale", 1.0f)),
                     ctm == "half_pixel"));
  return success();
}

//===--- linear algebra and signals ----------------------------------------===//

LogicalResult convertDet(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  n.setOutput(0, n.create<DetOp>(*x));
  return success();
}

/// A scalar integer operand that must be a constant.
std::optional<int64_t> constScalar(NodeImporter &n, size_t i) {
  auto v = n.input(i) ? n.constInts(n.input(i)) : std::nullopt;
  if (!v || v->size() != 1)
    return std::nullopt;
  return (*v)[0];
}

LogicalResult convertDft(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  int64_t axis = n.attrInt("axis", 1);
  if (n.opset >= 20) {
    axis = -2;
    if (n.input(2)) {
      std::optional<int64_t> a = constScalar(n, 2);
      if (!a)
        return n.unsupported("an axis computed at run time");
      axis = *a;
    }
  }
  // The last dimension holds the (real, imaginary) components.
  int64_t dataRank = t.getRank() - 1;
  if (axis < 0)
    axis += t.getRank();
  if (axis < 0 || axis >= dataRank)
    return n.error("axis " + std::to_string(axis) + " is out of range");
  int64_t length = t.getDimSize(axis);
  if (n.input(1)) {
    std::optional<int64_t> l = constScalar(n, 1);
    if (!l)
      return n.unsupported("dft_length computed at run time");
    length = *l;
  }
  if (ShapedType::isDynamic(length) || length < 1)
    return n.unsupported("a DFT over a dynamic or empty axis");
  // (kiln.dft truncates or zero-pads the signal to `length` points itself,
  // also when the input's length is known per run only.)
  n.setOutput(0, n.create<DftOp>(*x, axis, (uint64_t)length,
                                 n.attrInt("inverse", 0) != 0,
                                 n.attrInt("onesided", 0) != 0));
  return success();
}

LogicalResult convertStft(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), step = n.required(1);
  if (failed(x) || failed(step))
    return failure();
  n.setOutput(0, n.create<StftOp>(*x, *step, n.input(2), n.input(3),
                                  n.attrInt("onesided", 1) != 0));
  return success();
}

LogicalResult convertTfIdfVectorizer(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  if (n.hasAttr("pool_strings"))
    return n.unsupported("string n-gram pools");
  std::string modeName = n.attrString("mode", "TF");
  std::optional<TfIdfMode> mode = symbolizeTfIdfMode(StringRef(modeName).lower());
  if (!mode)
    return n.error("unknown mode '" + modeName + "'");
  SmallVector<float> weights = n.attrFloats("weights").value_or(SmallVector<float>{});
  n.setOutput(0, n.create<TfIdfOp>(
                     *x, *mode, (uint64_t)n.attrInt("min_gram_length", 1),
                     (uint64_t)n.attrInt("max_gram_length", 1),
                     (uint64_t)n.attrInt("max_skip_count", 0),
                     n.attrInts("ngram_counts").value_or(SmallVector<int64_t>{}),
                     n.attrInts("ngram_indexes").value_or(SmallVector<int64_t>{}),
                     n.attrInts("pool_int64s").value_or(SmallVector<int64_t>{}),
                     weights));
  return success();
}

} // namespace

Value randomUniformLike(NodeImporter &n, Value like) { return uniformLike(n, like); }

void registerSpecialOps(OpRegistry &r) {
  for (StringRef op : {"RandomUniform", "RandomNormal", "RandomUniformLike",
                       "RandomNormalLike"})
    r.add(op, 1, convertRandom);
  r.add("Bernoulli", 15, convertBernoulli);
  for (StringRef op : {"RNN", "GRU", "LSTM"})
    r.add(op, 7, convertRecurrent);
  r.add("NonMaxSuppression", 10, convertNonMaxSuppression);
  r.add("Unique", 11, convertUnique);
  r.add("GridSample", 16, convertGridSample);
  r.add("RoiAlign", 10, convertRoiAlign);
  r.add("Det", 11, convertDet);
  r.add("DFT", 17, convertDft);
  r.add("STFT", 17, convertStft);
  r.add("TfIdfVectorizer", 9, convertTfIdfVectorizer);
}

} // namespace kiln::onnx_frontend
