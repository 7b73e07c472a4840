//===- Elementwise.cpp - ONNX elementwise ops, table-driven ----------------===//
//
// One table row per ONNX op that maps straight to a kiln.unary/binary/compare
// kind; variadic ops (Sum, Max, ...) fold left; parametric activations
// (LeakyRelu, Elu, Clip, ...) are built from the same kinds.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"

#include "mlir/IR/Matchers.h"
#include <cmath>

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

struct UnaryRow {
  const char *op;
  int since;
  UnaryKind kind;
};
const UnaryRow kUnary[] = {
    {"Abs", 1, UnaryKind::abs},           {"Neg", 1, UnaryKind::neg},
    {"Exp", 1, UnaryKind::exp},           {"Log", 1, UnaryKind::log},
    {"Sqrt", 1, UnaryKind::sqrt},         {"Reciprocal", 1, UnaryKind::reciprocal},
    {"Sin", 7, UnaryKind::sin},           {"Cos", 7, UnaryKind::cos},
    {"Tan", 7, UnaryKind::tan},           {"Tanh", 1, UnaryKind::tanh},
    {"Sigmoid", 1, UnaryKind::sigmoid},   {"Relu", 1, UnaryKind::relu},
    {"Erf", 9, UnaryKind::erf},           {"Floor", 1, UnaryKind::floor},
    {"Ceil", 1, UnaryKind::ceil},         {"Round", 11, UnaryKind::round},
    {"Sign", 9, UnaryKind::sign},         {"Not", 1, UnaryKind::Not},
    {"Softplus", 1, UnaryKind::softplus}, {"Softsign", 1, UnaryKind::softsign},
    {"Asin", 7, UnaryKind::asin},         {"Acos", 7, UnaryKind::acos},
    {"Atan", 7, UnaryKind::atan},         {"Sinh", 9, UnaryKind::sinh},
    {"Cosh", 9, UnaryKind::cosh},         {"Asinh", 9, UnaryKind::asinh},
    {"Acosh", 9, UnaryKind::acosh},       {"Atanh", 9, UnaryKind::atanh},
    {"HardSwish", 14, UnaryKind::hard_swish}, {"Mish", 18, UnaryKind::mish},
    {"BitwiseNot", 18, UnaryKind::bitwise_not}, {"IsNaN", 9, UnaryKind::is_nan},
};

struct BinaryRow {
  const char *op;
  int since;
  BinaryKind kind;
};
const BinaryRow kBinary[] = {
    {"Add", 1, BinaryKind::add},   {"Sub", 1, BinaryKind::sub},
    {"Mul", 1, BinaryKind::mul},   {"Div", 1, BinaryKind::div},
    {"And", 1, BinaryKind::And},   {"Or", 1, BinaryKind::Or},
    {"Xor", 1, BinaryKind::Xor},   {"BitwiseAnd", 18, BinaryKind::bitwise_and},
    {"BitwiseOr", 18, BinaryKind::bitwise_or},
    {"BitwiseXor", 18, BinaryKind::bitwise_xor},
};

struct CompareRow {
  const char *op;
  int since;
  CompareKind kind;
};
const CompareRow kCompare[] = {
    {"Equal", 1, CompareKind::eq},   {"Less", 1, CompareKind::lt},
    {"LessOrEqual", 12, CompareKind::le}, {"Greater", 1, CompareKind::gt},
    {"GreaterOrEqual", 12, CompareKind::ge},
};

/// Finds this node's row by op type (the registry already matched it).
template <typename Row, size_t N>
const Row &rowFor(const Row (&rows)[N], NodeImporter &n) {
  for (const Row &r : rows)
    if (n.opType() == r.op)
      return r;
  llvm_unreachable("converter registered for an op without a table row");
}

Value binary(NodeImporter &n, BinaryKind k, Value a, Value b) {
  return n.create<BinaryOp>(k, a, b);
}

/// Before opset 7 broadcasting was opt-in with `broadcast`/`axis`; with
/// axis set, the rhs aligns at `axis` rather than at the right.
FailureOr<Value> legacyBroadcastRhs(NodeImporter &n, Value lhs, Value rhs) {
  if (n.opset >= 7 || !n.attrInt("broadcast", 0) || !n.hasAttr("axis"))
    return rhs;
  auto l = cast<RankedTensorType>(lhs.getType());
  auto r = cast<RankedTensorType>(rhs.getType());
  int64_t axis = n.attrInt("axis", 0);
  if (axis < 0)
    axis += l.getRank();
  int64_t trailing = axis < 0 || axis > l.getRank() ? -1 : l.getRank() - axis - r.getRank();
  if (trailing < 0 || !r.hasStaticShape())
    { (void)n.error("legacy broadcast axis does not fit the operand ranks"); return failure(); }
  SmallVector<int64_t> shape(r.getShape());
  shape.append(trailing, 1);
  return n.reshape(rhs, shape);
}

LogicalResult convertUnary(NodeImporter &n) {
  const UnaryRow &row = rowFor(kUnary, n);
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  n.setOutput(0, n.create<UnaryOp>(row.kind, *x));
  return success();
}

/// Binary and comparison rows: two inputs, legacy broadcast, one op.
template <typename OpTy, typename Row, size_t N>
LogicalResult convertTwoInputs(NodeImporter &n, const Row (&rows)[N]) {
  const Row &row = rowFor(rows, n);
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> rhs = legacyBroadcastRhs(n, *a, *b);
  if (failed(rhs))
    return failure();
  n.setOutput(0, n.create<OpTy>(row.kind, *a, *rhs));
  return success();
}
LogicalResult convertBinary(NodeImporter &n) {
  return convertTwoInputs<BinaryOp>(n, kBinary);
}
LogicalResult convertCompare(NodeImporter &n) {
  return convertTwoInputs<CompareOp>(n, kCompare);
}

/// Sum, Max, Min, Mean: left fold over any number of inputs.
LogicalResult convertVariadic(NodeImporter &n) {
  StringRef op = n.opType();
  BinaryKind k = op == "Max"   ? BinaryKind::max
                 : op == "Min" ? BinaryKind::min
                               : BinaryKind::add;
  if (n.numInputs() == 0)
    return n.error("needs at least one input");
  FailureOr<Value> acc = n.required(0);
  if (failed(acc))
    return failure();
  Value v = *acc;
  for (size_t i = 1; i < n.numInputs(); ++i) {
    FailureOr<Value> x = n.required(i);
    if (failed(x))
      return failure();
    v = binary(n, k, v, *x);
  }
  if (op == "Mean" && v) {
    Type elt = cast<RankedTensorType>(v.getType()).getElementType();
    v = binary(n, BinaryKind::div, v, n.splat(elt, (double)n.numInputs()));
  }
  n.setOutput(0, v);
  return success();
}

LogicalResult convertPow(NodeImporter &n) {
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  // ONNX allows a differently typed exponent; kiln wants equal types.
  Value exp = n.castTo(*b, n.inputType(0).getElementType());
  n.setOutput(0, binary(n, BinaryKind::pow, *a, exp));
  return success();
}

LogicalResult convertMod(NodeImporter &n) {
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  bool fmod = n.attrInt("fmod", 0);
  if (!fmod && isa<FloatType>(n.inputType(0).getElementType()))
    return n.error("Mod on floating-point inputs requires fmod=1");
  n.setOutput(0, binary(n, fmod ? BinaryKind::fmod : BinaryKind::mod, *a, *b));
  return success();
}

LogicalResult convertBitShift(NodeImporter &n) {
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  std::string dir = n.attrString("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    return n.error("direction must be LEFT or RIGHT, got '" + dir + "'");
  n.setOutput(0, binary(n, dir == "LEFT" ? BinaryKind::shl : BinaryKind::shr,
                        *a, *b));
  return success();
}

LogicalResult convertGelu(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  std::string approx = n.attrString("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return n.error("approximate must be 'none' or 'tanh', got '" + approx + "'");
  n.setOutput(0, n.create<UnaryOp>(approx == "tanh" ? UnaryKind::gelu_tanh
                                                    : UnaryKind::gelu,
                                   *x));
  return success();
}

LogicalResult convertIsInf(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  bool pos = n.attrInt("detect_positive", 1), neg = n.attrInt("detect_negative", 1);
  if (pos && neg) {
    n.setOutput(0, n.create<UnaryOp>(UnaryKind::is_inf, *x));
    return success();
  }
  Type elt = n.inputType(0).getElementType();
  if (!pos && !neg) {
    // Neither sign requested: false everywhere, with the input's shape.
    Value isNan = n.create<UnaryOp>(UnaryKind::is_nan, *x);
    n.setOutput(0, n.create<BinaryOp>(BinaryKind::And, isNan,
                                      n.create<UnaryOp>(UnaryKind::Not, isNan)));
    return success();
  }
  double inf = pos ? INFINITY : -INFINITY;
  n.setOutput(0, n.create<CompareOp>(CompareKind::eq, *x, n.splat(elt, inf)));
  return success();
}

/// Identity and the identity-at-inference ops.
LogicalResult convertIdentity(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  n.setOutput(0, *x);
  return success();
}

//===--- parametric activations, built from kinds ---------------------------===//

/// `where(x < 0, neg, pos)` with `neg`/`pos` computed from x.
Value selectByNegative(NodeImporter &n, Value x, Value ifNeg, Value ifPos) {
  if (!x) // an earlier create of this node failed (and said why)
    return {};
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value isNeg = n.create<CompareOp>(CompareKind::lt, x, n.splat(elt, 0.0));
  return n.create<WhereOp>(isNeg, ifNeg, ifPos);
}

LogicalResult convertActivation(NodeImporter &n) {
  FailureOr<Value> xOr = n.required(0);
  if (failed(xOr))
    return failure();
  Value x = *xOr;
  Type elt = n.inputType(0).getElementType();
  StringRef op = n.opType();
  auto c = [&](double v) { return n.splat(elt, v); };
  auto mul = [&](Value a, Value b) { return binary(n, BinaryKind::mul, a, b); };
  auto add = [&](Value a, Value b) { return binary(n, BinaryKind::add, a, b); };
  auto sub = [&](Value a, Value b) { return binary(n, BinaryKind::sub, a, b); };
  auto exp = [&](Value a) { return n.create<UnaryOp>(UnaryKind::exp, a); };
  Value out;
  if (op == "LeakyRelu") {
    out = selectByNegative(n, x, mul(x, c(n.attrFloat("alpha", 0.01f))), x);
  } else if (op == "Elu") {
    float alpha = n.attrFloat("alpha", 1.0f);
    out = selectByNegative(n, x, mul(c(alpha), sub(exp(x), c(1))), x);
  } else if (op == "Selu") {
    float alpha = n.attrFloat("alpha", 1.67326319217681884765625f);
    float gamma = n.attrFloat("gamma", 1.05070102214813232421875f);
    out = mul(c(gamma),
              selectByNegative(n, x, mul(c(alpha), sub(exp(x), c(1))), x));
  } else if (op == "Celu") {
    float alpha = n.attrFloat("alpha", 1.0f);
    Value e = mul(c(alpha), sub(exp(binary(n, BinaryKind::div, x, c(alpha))), c(1)));
    out = selectByNegative(n, x, e, x);
  } else if (op == "ThresholdedRelu") {
    Value keep = n.create<CompareOp>(CompareKind::gt, x, c(n.attrFloat("alpha", 1.0f)));
    out = n.create<WhereOp>(keep, x, c(0));
  } else if (op == "HardSigmoid") {
    Value y = add(mul(x, c(n.attrFloat("alpha", 0.2f))), c(n.attrFloat("beta", 0.5f)));
    out = binary(n, BinaryKind::min, binary(n, BinaryKind::max, y, c(0)), c(1));
  } else if (op == "Shrink") {
    float lambd = n.attrFloat("lambd", 0.5f), bias = n.attrFloat("bias", 0.0f);
    Value lo = n.create<CompareOp>(CompareKind::lt, x, c(-lambd));
    Value hi = n.create<CompareOp>(CompareKind::gt, x, c(lambd));
    out = n.create<WhereOp>(lo, add(x, c(bias)),
                            n.create<WhereOp>(hi, sub(x, c(bias)), c(0)));
  } else if (op == "PRelu") {
    FailureOr<Value> slope = n.required(1);
    if (failed(slope))
      return failure();
    // Before opset 7 a 1-D slope was per channel (dimension 1).
    Value s = *slope;
    auto st = n.inputType(1), xt = n.inputType(0);
    if (n.opset < 7 && st.getRank() == 1 && xt.getRank() > 2 &&
        st.getDimSize(0) == xt.getDimSize(1) && st.getDimSize(0) != 1) {
      SmallVector<int64_t> shape = {st.getDimSize(0)};
      shape.append(xt.getRank() - 2, 1);
      s = n.reshape(s, shape);
    }
    out = selectByNegative(n, x, mul(x, s), x);
  } else {
    llvm_unreachable("unhandled activation");
  }
  n.setOutput(0, out);
  return success();
}

LogicalResult convertClip(NodeImporter &n) {
  FailureOr<Value> xOr = n.required(0);
  if (failed(xOr))
    return failure();
  Value x = *xOr;
  Type elt = n.inputType(0).getElementType();
  Value lo, hi;
  if (n.opset < 11) {
    if (n.hasAttr("min"))
      lo = n.splat(elt, n.attrFloat("min", 0));
    if (n.hasAttr("max"))
      hi = n.splat(elt, n.attrFloat("max", 0));
  } else {
    lo = n.input(1);
    hi = n.input(2);
  }
  if (lo)
    x = binary(n, BinaryKind::max, x, lo);
  if (hi)
    x = binary(n, BinaryKind::min, x, hi);
  n.setOutput(0, x);
  return success();
}

} // namespace

void registerElementwiseOps(OpRegistry &r) {
  for (const UnaryRow &row : kUnary)
    r.add(row.op, row.since, convertUnary);
  for (const BinaryRow &row : kBinary)
    r.add(row.op, row.since, convertBinary);
  for (const CompareRow &row : kCompare)
    r.add(row.op, row.since, convertCompare);
  for (const char *op : {"Sum", "Max", "Min", "Mean"})
    r.add(op, 1, convertVariadic);
  r.add("Pow", 1, convertPow);
  r.add("Mod", 10, convertMod);
  r.add("BitShift", 11, convertBitShift);
  r.add("Gelu", 20, convertGelu);
  r.add("IsInf", 10, convertIsInf);
  r.add("Identity", 1, convertIdentity);
  for (const char *op : {"LeakyRelu", "Elu", "Selu", "Celu", "ThresholdedRelu",
                         "HardSigmoid", "Shrink", "PRelu"})
    r.add(op, 1, convertActivation);
  r.add("Clip", 1, convertClip);
}

} // namespace kiln::onnx_frontend
