//===- ConstantFolding.cpp - evaluate kiln ops on small constants ---------===//

#include "dialects/kiln/IR/ConstantFolding.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::constfold {

DenseElementsAttr small(Attribute attr) {
  auto d = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!d || !d.getType().hasStaticShape() || d.getNumElements() > kMaxElements)
    return {};
  return d;
}

namespace {
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

SmallVector<int64_t> unflatten(int64_t flat, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> idx(shape.size());
  for (int64_t i = (int64_t)shape.size() - 1; i >= 0; --i) {
    idx[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return idx;
}

int64_t flatten(ArrayRef<int64_t> idx, ArrayRef<int64_t> strides) {
  int64_t f = 0;
  for (size_t i = 0; i < idx.size(); ++i)
    f += idx[i] * strides[i];
  return f;
}

bool usable(RankedTensorType result) {
  return result && result.hasStaticShape() &&
         result.getNumElements() <= kMaxElements;
}

/// Values of `d` broadcast to `shape` (numpy rules), as attributes.
SmallVector<Attribute> broadcastValues(DenseElementsAttr d,
                                       ArrayRef<int64_t> shape) {
  SmallVector<Attribute> src(d.getValues<Attribute>());
  ArrayRef<int64_t> in = d.getType().getShape();
  SmallVector<int64_t> inStrides = stridesOf(in);
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  SmallVector<Attribute> out;
  out.reserve(n);
  size_t off = shape.size() - in.size();
  for (int64_t f = 0; f < n; ++f) {
    SmallVector<int64_t> idx = unflatten(f, shape);
    int64_t s = 0;
    for (size_t i = 0; i < in.size(); ++i)
      s += (in[i] == 1 ? 0 : idx[off + i]) * inStrides[i];
    out.push_back(src[s]);
  }
  return out;
}

bool isIntTensor(DenseElementsAttr d) {
  return isa<IntegerType>(d.getElementType());
}
} // namespace

Attribute broadcast(Attribute input, RankedTensorType result) {
  DenseElementsAttr in = small(input);
  if (!in || !usable(result) || in.getElementType() != result.getElementType())
    return {};
  return DenseElementsAttr::get(result, broadcastValues(in, result.getShape()));
}

Attribute binary(BinaryKind kind, Attribute lhsAttr, Attribute rhsAttr,
                 RankedTensorType result) {
  DenseElementsAttr lhs = small(lhsAttr), rhs = small(rhsAttr);
  if (!lhs || !rhs || !usable(result) || !isIntTensor(lhs))
    return {};
  bool isUnsigned = lhs.getElementType().isUnsignedInteger();
  SmallVector<Attribute> a = broadcastValues(lhs, result.getShape());
  SmallVector<Attribute> b = broadcastValues(rhs, result.getShape());
  SmallVector<APInt> out;
  for (size_t i = 0; i < a.size(); ++i) {
    APInt x = cast<IntegerAttr>(a[i]).getValue(),
          y = cast<IntegerAttr>(b[i]).getValue();
    switch (kind) {
    case BinaryKind::add: out.push_back(x + y); break;
    case BinaryKind::sub: out.push_back(x - y); break;
    case BinaryKind::mul: out.push_back(x * y); break;
    case BinaryKind::div:
      if (y.isZero())
        return {};
      out.push_back(isUnsigned ? x.udiv(y) : x.sdiv(y)); // truncates
      break;
    case BinaryKind::mod: {
      if (y.isZero())
        return {};
      if (isUnsigned) {
        out.push_back(x.urem(y));
        break;
      }
      APInt r = x.srem(y); // python-style: the sign follows the divisor
      if (!r.isZero() && (r.isNegative() != y.isNegative()))
        r += y;
      out.push_back(r);
      break;
    }
    case BinaryKind::fmod:
      if (y.isZero())
        return {};
      out.push_back(isUnsigned ? x.urem(y) : x.srem(y));
      break;
    case BinaryKind::max:
      out.push_back(isUnsigned ? llvm::APIntOps::umax(x, y) : llvm::APIntOps::smax(x, y));
      break;
    case BinaryKind::min:
      out.push_back(isUnsigned ? llvm::APIntOps::umin(x, y) : llvm::APIntOps::smin(x, y));
      break;
    case BinaryKind::And:
    case BinaryKind::bitwise_and: out.push_back(x & y); break;
    case BinaryKind::Or:
    case BinaryKind::bitwise_or: out.push_back(x | y); break;
    case BinaryKind::Xor:
    case BinaryKind::bitwise_xor: out.push_back(x ^ y); break;
    default:
      return {};
    }
  }
  return DenseElementsAttr::get(result, out);
}

Attribute compare(CompareKind kind, Attribute lhsAttr, Attribute rhsAttr,
                  RankedTensorType result) {
  DenseElementsAttr lhs = small(lhsAttr), rhs = small(rhsAttr);
  if (!lhs || !rhs || !usable(result))
    return {};
  bool isFloat = isa<FloatType>(lhs.getElementType());
  bool isUnsigned = lhs.getElementType().isUnsignedInteger();
  SmallVector<Attribute> a = broadcastValues(lhs, result.getShape());
  SmallVector<Attribute> b = broadcastValues(rhs, result.getShape());
  SmallVector<bool> out;
  for (size_t i = 0; i < a.size(); ++i) {
    int c; // -1, 0, 1, or 2 for unordered
    if (isFloat) {
      APFloat::cmpResult r = cast<FloatAttr>(a[i]).getValue().compare(
          cast<FloatAttr>(b[i]).getValue());
      c = r == APFloat::cmpLessThan ? -1 : r == APFloat::cmpEqual ? 0
          : r == APFloat::cmpGreaterThan ? 1 : 2;
    } else {
      APInt x = cast<IntegerAttr>(a[i]).getValue(),
            y = cast<IntegerAttr>(b[i]).getValue();
      c = x == y ? 0 : (isUnsigned ? x.ult(y) : x.slt(y)) ? -1 : 1;
    }
    switch (kind) {
    case CompareKind::eq: out.push_back(c == 0); break;
    case CompareKind::ne: out.push_back(c != 0); break;
    case CompareKind::lt: out.push_back(c == -1); break;
    case CompareKind::le: out.push_back(c == -1 || c == 0); break;
    case CompareKind::gt: out.push_back(c == 1); break;
    case CompareKind::ge: out.push_back(c == 1 || c == 0); break;
    }
  }
  return DenseElementsAttr::get(result, out);
}

Attribute select(Attribute condAttr, Attribute tAttr, Attribute fAttr,
                 RankedTensorType result) {
  DenseElementsAttr c = small(condAttr), t = small(tAttr), f = small(fAttr);
  if (!c || !t || !f || !usable(result))
    return {};
  SmallVector<Attribute> cv = broadcastValues(c, result.getShape());
  SmallVector<Attribute> tv = broadcastValues(t, result.getShape());
  SmallVector<Attribute> fv = broadcastValues(f, result.getShape());
  SmallVector<Attribute> out;
  for (size_t i = 0; i < cv.size(); ++i)
    out.push_back(cast<IntegerAttr>(cv[i]).getValue().getBoolValue() ? tv[i]
                                                                      : fv[i]);
  return DenseElementsAttr::get(result, out);
}

Attribute convert(Attribute inputAttr, RankedTensorType result) {
  DenseElementsAttr in = small(inputAttr);
  if (!in || !usable(result))
    return {};
  Type from = in.getElementType(), to = result.getElementType();
  SmallVector<Attribute> out;
  for (Attribute a : in.getValues<Attribute>()) {
    if (auto ia = dyn_cast<IntegerAttr>(a)) {
      APInt x = ia.getValue();
      bool srcSigned = !from.isUnsignedInteger() && !from.isInteger(1);
      if (auto it = dyn_cast<IntegerType>(to)) {
        if (it.getWidth() == 1)
          out.push_back(IntegerAttr::get(to, APInt(1, !x.isZero())));
        else
          out.push_back(IntegerAttr::get(
              to, srcSigned ? x.sextOrTrunc(it.getWidth())
                            : x.zextOrTrunc(it.getWidth())));
      } else if (auto ft = dyn_cast<FloatType>(to)) {
        APFloat f(ft.getFloatSemantics());
        f.convertFromAPInt(x, srcSigned, APFloat::rmNearestTiesToEven);
        out.push_back(FloatAttr::get(to, f));
      } else {
        return {};
      }
    } else if (auto fa = dyn_cast<FloatAttr>(a)) {
      APFloat f = fa.getValue();
      if (auto ft = dyn_cast<FloatType>(to)) {
        bool lost;
        f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
        out.push_back(FloatAttr::get(to, f));
      } else if (auto it = dyn_cast<IntegerType>(to)) {
        if (f.isNaN() || f.isInfinity())
          return {};
        if (it.getWidth() == 1) {
          out.push_back(IntegerAttr::get(to, APInt(1, !f.isZero())));
          continue;
        }
        APSInt v(it.getWidth(), it.isUnsigned());
        bool exact;
        f.convertToInteger(v, APFloat::rmTowardZero, &exact);
        out.push_back(IntegerAttr::get(to, v));
      } else {
        return {};
      }
    } else {
      return {};
    }
  }
  return DenseElementsAttr::get(result, out);
}

Attribute gather(Attribute dataAttr, Attribute indicesAttr, int64_t axis,
                 RankedTensorType result) {
  DenseElementsAttr data = small(dataAttr), idx = small(indicesAttr);
  if (!data || !idx || !usable(result) || !isIntTensor(idx))
    return {};
  ArrayRef<int64_t> ds = data.getType().getShape();
  int64_t rank = ds.size();
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1, dim = ds[axis];
  for (int64_t i = 0; i < axis; ++i)
    outer *= ds[i];
  for (int64_t i = axis + 1; i < rank; ++i)
    inner *= ds[i];
  SmallVector<Attribute> src(data.getValues<Attribute>());
  SmallVector<int64_t> ids;
  for (const APInt &v : idx.getValues<APInt>()) {
    int64_t i = v.getSExtValue();
    if (i < 0)
      i += dim;
    if (i < 0 || i >= dim)
      return {}; // out of range: leave it for the runtime check
    ids.push_back(i);
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : ids)
      for (int64_t k = 0; k < inner; ++k)
        out.push_back(src[(o * dim + i) * inner + k]);
  return DenseElementsAttr::get(result, out);
}

Attribute concat(ArrayRef<Attribute> inputs, int64_t axis,
                 RankedTensorType result) {
  if (!usable(result))
    return {};
  SmallVector<DenseElementsAttr> ins;
  for (Attribute a : inputs) {
    DenseElementsAttr d = small(a);
    if (!d)
      return {};
    ins.push_back(d);
  }
  int64_t rank = result.getRank();
  if (axis < 0)
    axis += rank;
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= result.getDimSize(i);
  SmallVector<SmallVector<Attribute>> vals;
  SmallVector<int64_t> blocks; // elements per outer step for each input
  for (DenseElementsAttr d : ins) {
    vals.emplace_back(d.getValues<Attribute>());
    blocks.push_back(outer ? d.getNumElements() / outer : 0);
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < ins.size(); ++k)
      for (int64_t e = 0; e < blocks[k]; ++e)
        out.push_back(vals[k][o * blocks[k] + e]);
  return DenseElementsAttr::get(result, out);
}

Attribute slice(Attribute inputAttr, ArrayRef<int64_t> starts,
                ArrayRef<int64_t> steps, RankedTensorType result) {
  DenseElementsAttr in = small(inputAttr);
  if (!in || !usable(result))
    return {};
  ArrayRef<int64_t> shape = in.getType().getShape();
  SmallVector<int64_t> first;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t s = starts[i] < 0 ? starts[i] + shape[i] : starts[i];
    s = steps[i] > 0 ? std::clamp<int64_t>(s, 0, shape[i])
                     : std::clamp<int64_t>(s, 0, shape[i] - 1);
    first.push_back(s);
  }
  SmallVector<Attribute> src(in.getValues<Attribute>());
  SmallVector<int64_t> strides = stridesOf(shape);
  SmallVector<Attribute> out;
  for (int64_t f = 0; f < result.getNumElements(); ++f) {
    SmallVector<int64_t> idx = unflatten(f, result.getShape());
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = first[i] + idx[i] * steps[i];
    out.push_back(src[flatten(idx, strides)]);
  }
  return DenseElementsAttr::get(result, out);
}

Attribute transpose(Attribute inputAttr, ArrayRef<int64_t> perm,
                    RankedTensorType result) {
  DenseElementsAttr in = small(inputAttr);
  if (!in || !usable(result))
    return {};
  SmallVector<Attribute> src(in.getValues<Attribute>());
  SmallVector<int64_t> strides = stridesOf(in.getType().getShape());
  SmallVector<Attribute> out;
  for (int64_t f = 0; f < result.getNumElements(); ++f) {
    SmallVector<int64_t> idx = unflatten(f, result.getShape());
    int64_t s = 0;
    for (size_t i = 0; i < perm.size(); ++i)
      s += idx[i] * strides[perm[i]];
    out.push_back(src[s]);
  }
  return DenseElementsAttr::get(result, out);
}

Attribute reduce(ReduceKind kind, Attribute inputAttr, ArrayRef<int64_t> axes,
                 RankedTensorType result) {
  DenseElementsAttr in = small(inputAttr);
  if (!in || !usable(result) || !isIntTensor(in) || in.getElementType().isInteger(1))
    return {};
  if (kind != ReduceKind::sum && kind != ReduceKind::prod &&
      kind != ReduceKind::max && kind != ReduceKind::min)
    return {};
  ArrayRef<int64_t> shape = in.getType().getShape();
  int64_t rank = shape.size();
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes)
    reduced[a < 0 ? a + rank : a] = true;
  // Result index of each input element: drop (or zero) the reduced dims.
  SmallVector<int64_t> keptShape;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced[i])
      keptShape.push_back(shape[i]);
  SmallVector<int64_t> keptStrides = stridesOf(keptShape);
  bool isUnsigned = in.getElementType().isUnsignedInteger();
  SmallVector<std::optional<APInt>> acc(result.getNumElements());
  int64_t f = 0;
  for (const APInt &v : in.getValues<APInt>()) {
    SmallVector<int64_t> idx = unflatten(f++, shape), kept;
    for (int64_t i = 0; i < rank; ++i)
      if (!reduced[i])
        kept.push_back(idx[i]);
    std::optional<APInt> &a = acc[flatten(kept, keptStrides)];
    if (!a) {
      a = v;
      continue;
    }
    switch (kind) {
    case ReduceKind::sum: *a += v; break;
    case ReduceKind::prod: *a *= v; break;
    case ReduceKind::max: *a = isUnsigned ? llvm::APIntOps::umax(*a, v) : llvm::APIntOps::smax(*a, v); break;
    default: *a = isUnsigned ? llvm::APIntOps::umin(*a, v) : llvm::APIntOps::smin(*a, v); break;
    }
  }
  SmallVector<APInt> out;
  unsigned width = in.getElementType().getIntOrFloatBitWidth();
  for (auto &a : acc) {
    if (!a && kind != ReduceKind::sum && kind != ReduceKind::prod)
      return {}; // max/min of nothing
    out.push_back(a ? *a : APInt(width, kind == ReduceKind::prod ? 1 : 0));
  }
  return DenseElementsAttr::get(result, out);
}

Attribute unary(UnaryKind kind, Attribute inputAttr, RankedTensorType result) {
  DenseElementsAttr in = small(inputAttr);
  if (!in || !usable(result) || !isIntTensor(in))
    return {};
  SmallVector<APInt> out;
  for (APInt v : in.getValues<APInt>()) {
    switch (kind) {
    case UnaryKind::neg: out.push_back(-v); break;
    case UnaryKind::abs: out.push_back(v.isNegative() && !in.getElementType().isUnsignedInteger() ? -v : v); break;
    case UnaryKind::Not:
    case UnaryKind::bitwise_not: out.push_back(~v); break;
    default: return {};
    }
  }
  return DenseElementsAttr::get(result, out);
}

std::optional<SmallVector<int64_t>> constantInts(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> ints;
  for (const APInt &i : attr)
    ints.push_back(i.getSExtValue());
  return ints;
}

} // namespace kiln::constfold
