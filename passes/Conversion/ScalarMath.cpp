//===- ScalarMath.cpp - kiln elementwise kinds as arith/math on scalars ---===//
//
// The bodies of the linalg.generic ops elementwise kiln ops become. Kinds
// follow ONNX semantics (e.g. integer `mod` takes the divisor's sign, `round`
// is half to even, casts truncate toward zero).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace kiln::conversion {

bool isLowerableElement(Type t) {
  return isa<FloatType>(t) || (isa<IntegerType>(t) && t.isSignlessInteger());
}

bool isUnsignedElement(Type t) { return t.isUnsignedInteger(); }

Type signlessElement(Type t) {
  if (auto i = dyn_cast<IntegerType>(t); i && !i.isSignless())
    return IntegerType::get(t.getContext(), i.getWidth());
  return t;
}

static Value fconst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}
static Value iconst(OpBuilder &b, Location loc, Type t, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v));
}

Value buildUnary(OpBuilder &b, Location loc, UnaryKind kind, Value x, bool isUnsigned) {
  Type t = x.getType();
  if (isa<IntegerType>(t) && isUnsigned) {
    switch (kind) {
    case UnaryKind::abs:
    case UnaryKind::relu:
      return x;
    case UnaryKind::sign:
      return arith::ExtUIOp::create(
          b, loc, t,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, iconst(b, loc, t, 0)));
    case UnaryKind::neg:
      return {};
    default:
      break; // bit operations are the same
    }
  }
  if (isa<IntegerType>(t)) {
    switch (kind) {
    case UnaryKind::abs:
      return math::AbsIOp::create(b, loc, x);
    case UnaryKind::neg:
      return arith::SubIOp::create(b, loc, iconst(b, loc, t, 0), x);
    case UnaryKind::relu:
      return arith::MaxSIOp::create(b, loc, x, iconst(b, loc, t, 0));
    case UnaryKind::sign: {
      Value pos = arith::ExtUIOp::create(
          b, loc, t,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, x, iconst(b, loc, t, 0)));
      Value neg = arith::ExtUIOp::create(
          b, loc, t,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, iconst(b, loc, t, 0)));
      return arith::SubIOp::create(b, loc, pos, neg);
    }
    case UnaryKind::Not:
    case UnaryKind::bitwise_not:
      return arith::XOrIOp::create(b, loc, x, iconst(b, loc, t, -1));
    default:
      return {};
    }
  }
  if (!isa<FloatType>(t))
    return {};
  auto one = [&] { return fconst(b, loc, t, 1.0); };
  auto sigmoid = [&](Value v) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
    return arith::DivFOp::create(b, loc, one(), arith::AddFOp::create(b, loc, one(), e));
  };
  switch (kind) {
  case UnaryKind::abs: return math::AbsFOp::create(b, loc, x);
  case UnaryKind::neg: return arith::NegFOp::create(b, loc, x);
  case UnaryKind::exp: return math::ExpOp::create(b, loc, x);
  case UnaryKind::log: return math::LogOp::create(b, loc, x);
  case UnaryKind::sqrt: return math::SqrtOp::create(b, loc, x);
  case UnaryKind::rsqrt: return math::RsqrtOp::create(b, loc, x);
  case UnaryKind::reciprocal: return arith::DivFOp::create(b, loc, one(), x);
  case UnaryKind::sin: return math::SinOp::create(b, loc, x);
  case UnaryKind::cos: return math::CosOp::create(b, loc, x);
  case UnaryKind::tan: return math::TanOp::create(b, loc, x);
  case UnaryKind::tanh: return math::TanhOp::create(b, loc, x);
  case UnaryKind::sigmoid: return sigmoid(x);
  case UnaryKind::relu:
    return arith::MaximumFOp::create(b, loc, x, fconst(b, loc, t, 0.0));
  case UnaryKind::silu: return arith::MulFOp::create(b, loc, x, sigmoid(x));
  case UnaryKind::gelu: {
    // 0.5 x (1 + erf(x / sqrt(2)))
    Value e = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, fconst(b, loc, t, M_SQRT1_2)));
    Value h = arith::MulFOp::create(b, loc, x, fconst(b, loc, t, 0.5));
    return arith::MulFOp::create(b, loc, h, arith::AddFOp::create(b, loc, one(), e));
  }
  case UnaryKind::gelu_tanh: {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value inner = arith::AddFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, x3, fconst(b, loc, t, 0.044715)));
    Value th = math::TanhOp::create(
        b, loc, arith::MulFOp::create(b, loc, inner, fconst(b, loc, t, 0.7978845608028654)));
    Value h = arith::MulFOp::create(b, loc, x, fconst(b, loc, t, 0.5));
    return arith::MulFOp::create(b, loc, h, arith::AddFOp::create(b, loc, one(), th));
  }
  case UnaryKind::erf: return math::ErfOp::create(b, loc, x);
  case UnaryKind::floor: return math::FloorOp::create(b, loc, x);
  case UnaryKind::ceil: return math::CeilOp::create(b, loc, x);
  case UnaryKind::round: return math::RoundEvenOp::create(b, loc, x);
  case UnaryKind::sign: {
    Value zero = fconst(b, loc, t, 0.0);
    Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
    Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero);
    Value s = arith::SelectOp::create(b, loc, neg, fconst(b, loc, t, -1.0), zero);
    return arith::SelectOp::create(b, loc, pos, one(), s);
  }
  case UnaryKind::softplus:
    return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
  case UnaryKind::softsign:
    return arith::DivFOp::create(
        b, loc, x, arith::AddFOp::create(b, loc, one(), math::AbsFOp::create(b, loc, x)));
  case UnaryKind::asin: return math::AsinOp::create(b, loc, x);
  case UnaryKind::acos: return math::AcosOp::create(b, loc, x);
  case UnaryKind::atan: return math::AtanOp::create(b, loc, x);
  case UnaryKind::sinh: return math::SinhOp::create(b, loc, x);
  case UnaryKind::cosh: return math::CoshOp::create(b, loc, x);
  case UnaryKind::asinh: return math::AsinhOp::create(b, loc, x);
  case UnaryKind::acosh: return math::AcoshOp::create(b, loc, x);
  case UnaryKind::atanh: return math::AtanhOp::create(b, loc, x);
  case UnaryKind::hard_swish: {
    // x * clamp(x / 6 + 0.5, 0, 1)
    Value r = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, fconst(b, loc, t, 1.0 / 6.0)),
        fconst(b, loc, t, 0.5));
    r = arith::MinimumFOp::create(b, loc,
                                  arith::MaximumFOp::create(b, loc, r, fconst(b, loc, t, 0.0)),
                                  one());
    return arith::MulFOp::create(b, loc, x, r);
  }
  case UnaryKind::mish: {
    Value sp = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
    return arith::MulFOp::create(b, loc, x, math::TanhOp::create(b, loc, sp));
  }
  default:
    return {};
  }
}

Value buildBinary(OpBuilder &b, Location loc, BinaryKind kind, Value x, Value y,
                  bool isUnsigned) {
  Type t = x.getType();
  if (isa<FloatType>(t)) {
    switch (kind) {
    case BinaryKind::add: return arith::AddFOp::create(b, loc, x, y);
    case BinaryKind::sub: return arith::SubFOp::create(b, loc, x, y);
    case BinaryKind::mul: return arith::MulFOp::create(b, loc, x, y);
    case BinaryKind::div: return arith::DivFOp::create(b, loc, x, y);
    case BinaryKind::pow: return math::PowFOp::create(b, loc, x, y);
    case BinaryKind::max: return arith::MaximumFOp::create(b, loc, x, y);
    case BinaryKind::min: return arith::MinimumFOp::create(b, loc, x, y);
    case BinaryKind::fmod: return arith::RemFOp::create(b, loc, x, y);
    default: return {};
    }
  }
  if (!isa<IntegerType>(t))
    return {};
  if (isUnsigned) {
    switch (kind) {
    case BinaryKind::div: return arith::DivUIOp::create(b, loc, x, y);
    case BinaryKind::max: return arith::MaxUIOp::create(b, loc, x, y);
    case BinaryKind::min: return arith::MinUIOp::create(b, loc, x, y);
    case BinaryKind::fmod:
    case BinaryKind::mod: return arith::RemUIOp::create(b, loc, x, y);
    default: break; // the rest do not depend on the sign
    }
  }
  switch (kind) {
  case BinaryKind::add: return arith::AddIOp::create(b, loc, x, y);
  case BinaryKind::sub: return arith::SubIOp::create(b, loc, x, y);
  case BinaryKind::mul: return arith::MulIOp::create(b, loc, x, y);
  case BinaryKind::div: return arith::DivSIOp::create(b, loc, x, y);
  case BinaryKind::max: return arith::MaxSIOp::create(b, loc, x, y);
  case BinaryKind::min: return arith::MinSIOp::create(b, loc, x, y);
  case BinaryKind::pow: return math::IPowIOp::create(b, loc, x, y);
  case BinaryKind::fmod: return arith::RemSIOp::create(b, loc, x, y);
  case BinaryKind::mod: {
    // The remainder takes the divisor's sign (Python / ONNX fmod=0).
    Value r = arith::RemSIOp::create(b, loc, x, y);
    Value zero = iconst(b, loc, t, 0);
    Value nonzero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, r, zero);
    Value rNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, zero);
    Value yNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, y, zero);
    Value differ = arith::XOrIOp::create(b, loc, rNeg, yNeg);
    Value fix = arith::AndIOp::create(b, loc, nonzero, differ);
    return arith::SelectOp::create(b, loc, fix, arith::AddIOp::create(b, loc, r, y), r);
  }
  case BinaryKind::And:
  case BinaryKind::bitwise_and: return arith::AndIOp::create(b, loc, x, y);
  case BinaryKind::Or:
  case BinaryKind::bitwise_or: return arith::OrIOp::create(b, loc, x, y);
  case BinaryKind::Xor:
  case BinaryKind::bitwise_xor: return arith::XOrIOp::create(b, loc, x, y);
  case BinaryKind::shl: return arith::ShLIOp::create(b, loc, x, y);
  case BinaryKind::shr: return arith::ShRUIOp::create(b, loc, x, y);
  }
  return {};
}

Value buildCompare(OpBuilder &b, Location loc, CompareKind kind, Value x, Value y,
                   bool isUnsigned) {
  if (isa<FloatType>(x.getType())) {
    arith::CmpFPredicate p;
    switch (kind) {
    case CompareKind::eq: p = arith::CmpFPredicate::OEQ; break;
    case CompareKind::ne: p = arith::CmpFPredicate::UNE; break;
    case CompareKind::lt: p = arith::CmpFPredicate::OLT; break;
    case CompareKind::le: p = arith::CmpFPredicate::OLE; break;
    case CompareKind::gt: p = arith::CmpFPredicate::OGT; break;
    case CompareKind::ge: p = arith::CmpFPredicate::OGE; break;
    }
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  arith::CmpIPredicate p;
  switch (kind) {
  case CompareKind::eq: p = arith::CmpIPredicate::eq; break;
  case CompareKind::ne: p = arith::CmpIPredicate::ne; break;
  case CompareKind::lt: p = isUnsigned ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt; break;
  case CompareKind::le: p = isUnsigned ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle; break;
  case CompareKind::gt: p = isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt; break;
  case CompareKind::ge: p = isUnsigned ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge; break;
  }
  return arith::CmpIOp::create(b, loc, p, x, y);
}

Value buildCast(OpBuilder &b, Location loc, Value x, Type to, bool fromUnsigned,
                bool toUnsigned) {
  Type from = x.getType();
  if (from == to)
    return x;
  auto fi = dyn_cast<IntegerType>(from), ti = dyn_cast<IntegerType>(to);
  auto ff = dyn_cast<FloatType>(from), tf = dyn_cast<FloatType>(to);
  if (ti && ti.getWidth() == 1) { // to bool: x != 0
    if (ff)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x,
                                   fconst(b, loc, from, 0.0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                 iconst(b, loc, from, 0));
  }
  bool fromBool = fi && fi.getWidth() == 1;
  fromUnsigned |= fromBool;
  if (ff && tf)
    return ff.getWidth() < tf.getWidth()
               ? Value(arith::ExtFOp::create(b, loc, to, x))
               : Value(arith::TruncFOp::create(b, loc, to, x));
  if (fi && tf)
    return fromUnsigned ? Value(arith::UIToFPOp::create(b, loc, to, x))
                        : Value(arith::SIToFPOp::create(b, loc, to, x));
  if (ff && ti)
    return toUnsigned ? Value(arith::FPToUIOp::create(b, loc, to, x))
                      : Value(arith::FPToSIOp::create(b, loc, to, x));
  if (fi && ti) {
    if (fi.getWidth() == ti.getWidth())
      return x; // signedness lives in the types around the body
    if (fi.getWidth() < ti.getWidth())
      return fromUnsigned ? Value(arith::ExtUIOp::create(b, loc, to, x))
                          : Value(arith::ExtSIOp::create(b, loc, to, x));
    return arith::TruncIOp::create(b, loc, to, x);
  }
  return {};
}

} // namespace kiln::conversion
