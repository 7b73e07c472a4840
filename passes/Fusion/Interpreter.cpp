//===- Interpreter.cpp - kiln ops evaluated on concrete tensors -----------===//
//
// Each op follows its ONNX definition (the importer maps ONNX nodes onto
// kiln ops one to one) or, for fused ops, its description in KilnOps.td.
// Written for clarity, not speed: it runs once per proof on layer-sized
// tensors.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Interpreter.h"

#include "lib/support/StorageBytes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

using namespace mlir;

namespace kiln::fusion {

HostTensor::HostTensor(ArrayRef<int64_t> s, double fill) : shape(s.begin(), s.end()) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  data.assign(n, fill);
}

double decodeElement(Type elt, const char *p) {
  auto read = [p](auto x) {
    std::memcpy(&x, p, sizeof(x));
    return x;
  };
  if (elt.isF32())
    return read(float());
  if (elt.isF64())
    return read(double());
  if (auto ft = dyn_cast<FloatType>(elt)) { // f16, bf16, f8: exact in double
    unsigned bits = ft.getWidth();
    uint64_t raw = 0;
    std::memcpy(&raw, p, bits / 8);
    APFloat f(ft.getFloatSemantics(), APInt(bits, raw));
    bool lost;
    f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return f.convertToDouble();
  }
  if (elt.isInteger(1))
    return read(uint8_t()) != 0;
  bool isUnsigned = elt.isUnsignedInteger();
  switch (elt.getIntOrFloatBitWidth()) {
  case 8: return isUnsigned ? (double)read(uint8_t()) : (double)read(int8_t());
  case 16: return isUnsigned ? (double)read(uint16_t()) : (double)read(int16_t());
  case 32: return isUnsigned ? (double)read(uint32_t()) : (double)read(int32_t());
  default: return isUnsigned ? (double)read(uint64_t()) : (double)read(int64_t());
  }
}

namespace {

SmallVector<int64_t, 4> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 4> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// numpy broadcasting of two shapes, or nullopt.
std::optional<SmallVector<int64_t, 4>> broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t r = std::max(a.size(), b.size());
  SmallVector<int64_t, 4> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Strides of `t` read as `out`-shaped by broadcasting (0 on broadcast dims).
SmallVector<int64_t, 4> broadcastStrides(ArrayRef<int64_t> shape, ArrayRef<int64_t> out) {
  SmallVector<int64_t, 4> s(out.size(), 0), own = stridesOf(shape);
  size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    s[lead + i] = shape[i] == 1 ? 0 : own[i];
  return s;
}

/// Calls f(outIndex, offsets...) for every element of `out`, with each
/// operand's offset under broadcasting.
template <size_t N, typename F>
void forEachBroadcast(ArrayRef<int64_t> out, std::array<ArrayRef<int64_t>, N> shapes, F f) {
  std::array<SmallVector<int64_t, 4>, N> st;
  for (size_t k = 0; k < N; ++k)
    st[k] = broadcastStrides(shapes[k], out);
  int64_t n = 1;
  for (int64_t d : out)
    n *= d;
  SmallVector<int64_t, 4> idx(out.size(), 0);
  std::array<int64_t, N> off{};
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (int64_t d = (int64_t)out.size() - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) {
        for (size_t k = 0; k < N; ++k)
          off[k] += st[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k)
        off[k] -= st[k][d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

bool isIntegerTensor(Value v) {
  auto t = dyn_cast<ShapedType>(v.getType());
  return t && isa<IntegerType>(t.getElementType());
}

double unary(UnaryKind k, double x) {
  switch (k) {
  case UnaryKind::abs: return std::fabs(x);
  case UnaryKind::neg: return -x;
  case UnaryKind::exp: return std::exp(x);
  case UnaryKind::log: return std::log(x);
  case UnaryKind::sqrt: return std::sqrt(x);
  case UnaryKind::rsqrt: return 1.0 / std::sqrt(x);
  case UnaryKind::reciprocal: return 1.0 / x;
  case UnaryKind::sin: return std::sin(x);
  case UnaryKind::cos: return std::cos(x);
  case UnaryKind::tan: return std::tan(x);
  case UnaryKind::tanh: return std::tanh(x);
  case UnaryKind::sigmoid: return 1.0 / (1.0 + std::exp(-x));
  case UnaryKind::relu: return x > 0 ? x : 0.0;
  case UnaryKind::silu: return x / (1.0 + std::exp(-x));
  case UnaryKind::gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case UnaryKind::gelu_tanh:
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case UnaryKind::erf: return std::erf(x);
  case UnaryKind::floor: return std::floor(x);
  case UnaryKind::ceil: return std::ceil(x);
  case UnaryKind::round: return std::nearbyint(x);
  case UnaryKind::sign: return (x > 0) - (x < 0);
  case UnaryKind::Not: return x == 0;
  case UnaryKind::softplus: return std::log1p(std::exp(x));
  case UnaryKind::softsign: return x / (1.0 + std::fabs(x));
  case UnaryKind::asin: return std::asin(x);
  case UnaryKind::acos: return std::acos(x);
  case UnaryKind::atan: return std::atan(x);
  case UnaryKind::sinh: return std::sinh(x);
  case UnaryKind::cosh: return std::cosh(x);
  case UnaryKind::asinh: return std::asinh(x);
  case UnaryKind::acosh: return std::acosh(x);
  case UnaryKind::atanh: return std::atanh(x);
  case UnaryKind::hard_swish: return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0;
  case UnaryKind::mish: return x * std::tanh(std::log1p(std::exp(x)));
  case UnaryKind::bitwise_not: return (double)~(int64_t)x;
  case UnaryKind::is_nan: return std::isnan(x);
  case UnaryKind::is_inf: return std::isinf(x);
  }
  return NAN;
}

double binary(BinaryKind k, double a, double b, bool integer) {
  switch (k) {
  case BinaryKind::add: return a + b;
  case BinaryKind::sub: return a - b;
  case BinaryKind::mul: return a * b;
  case BinaryKind::div: return integer ? (b == 0 ? 0 : std::trunc(a / b)) : a / b;
  case BinaryKind::pow: return std::pow(a, b);
  case BinaryKind::max: return std::max(a, b);
  case BinaryKind::min: return std::min(a, b);
  case BinaryKind::mod: { // the divisor's sign (Python), ONNX Mod fmod=0
    if (b == 0)
      return 0;
    double r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
  case BinaryKind::fmod: return std::fmod(a, b);
  case BinaryKind::And: return (a != 0) && (b != 0);
  case BinaryKind::Or: return (a != 0) || (b != 0);
  case BinaryKind::Xor: return (a != 0) != (b != 0);
  case BinaryKind::shl: return (double)((uint64_t)a << (uint64_t)b);
  case BinaryKind::shr: return (double)((uint64_t)a >> (uint64_t)b);
  case BinaryKind::bitwise_and: return (double)((int64_t)a & (int64_t)b);
  case BinaryKind::bitwise_or: return (double)((int64_t)a | (int64_t)b);
  case BinaryKind::bitwise_xor: return (double)((int64_t)a ^ (int64_t)b);
  }
  return NAN;
}

bool compare(CompareKind k, double a, double b) {
  switch (k) {
  case CompareKind::eq: return a == b;
  case CompareKind::ne: return a != b;
  case CompareKind::lt: return a < b;
  case CompareKind::le: return a <= b;
  case CompareKind::gt: return a > b;
  case CompareKind::ge: return a >= b;
  }
  return false;
}

/// numpy matmul of a [..., M, K] and b [..., K, N] (1-D operands promoted).
std::optional<HostTensor> matmul(const HostTensor &a0, const HostTensor &b0) {
  HostTensor a = a0, b = b0;
  bool vecA = a.rank() == 1, vecB = b.rank() == 1;
  if (vecA)
    a.shape.insert(a.shape.begin(), 1);
  if (vecB)
    b.shape.push_back(1);
  if (a.rank() < 2 || b.rank() < 2)
    return std::nullopt;
  int64_t m = a.shape[a.rank() - 2], k = a.shape.back(), n = b.shape.back();
  if (b.shape[b.rank() - 2] != k)
    return std::nullopt;
  ArrayRef<int64_t> ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  std::optional<SmallVector<int64_t, 4>> batch = broadcastShapes(ab, bb);
  if (!batch)
    return std::nullopt;
  SmallVector<int64_t, 4> outShape(*batch);
  outShape.append({m, n});
  HostTensor out(outShape);
  forEachBroadcast<2>(*batch, {ab, bb}, [&](int64_t i, std::array<int64_t, 2> off) {
    const double *pa = a.data.data() + off[0] * m * k, *pb = b.data.data() + off[1] * k * n;
    double *po = out.data.data() + i * m * n;
    for (int64_t r = 0; r < m; ++r)
      for (int64_t kk = 0; kk < k; ++kk) {
        double x = pa[r * k + kk];
        if (x == 0)
          continue;
        for (int64_t c = 0; c < n; ++c)
          po[r * n + c] += x * pb[kk * n + c];
      }
  });
  if (vecA)
    out.shape.erase(out.shape.end() - 2);
  if (vecB)
    out.shape.pop_back();
  return out;
}

HostTensor transposed(const HostTensor &in, ArrayRef<int64_t> perm) {
  SmallVector<int64_t, 4> shape;
  for (int64_t p : perm)
    shape.push_back(in.shape[p]);
  HostTensor out(shape);
  SmallVector<int64_t, 4> inStrides = stridesOf(in.shape), permuted;
  for (int64_t p : perm)
    permuted.push_back(inStrides[p]);
  SmallVector<int64_t, 4> idx(shape.size(), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < out.numElements(); ++i) {
    out.data[i] = in.data[off];
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += permuted[d];
        break;
      }
      off -= permuted[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

/// ONNX Reshape's target: 0 copies the input's dim (unless allowzero), -1
/// takes what is left.
std::optional<SmallVector<int64_t, 4>> reshapeTarget(ArrayRef<int64_t> in, const HostTensor &spec,
                                                     bool allowZero) {
  SmallVector<int64_t, 4> out;
  int64_t n = std::accumulate(in.begin(), in.end(), (int64_t)1, std::multiplies<>()), known = 1,
          infer = -1;
  for (int64_t i = 0; i < spec.numElements(); ++i) {
    int64_t d = (int64_t)spec.data[i];
    if (d == 0 && !allowZero) {
      if (i >= (int64_t)in.size())
        return std::nullopt;
      d = in[i];
    }
    if (d == -1) {
      if (infer >= 0)
        return std::nullopt;
      infer = i;
      out.push_back(1);
      continue;
    }
    known *= d;
    out.push_back(d);
  }
  if (infer >= 0) {
    if (known == 0 || n % known)
      return std::nullopt;
    out[infer] = n / known;
  }
  return out;
}

/// softmax over `axis` (log-softmax with `log`).
HostTensor softmax(const HostTensor &in, int64_t axis, bool log) {
  HostTensor out = in;
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  int64_t len = in.shape[axis], outer = in.numElements() / std::max<int64_t>(1, len * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double *p = out.data.data() + o * len * inner + i;
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < len; ++j)
        mx = std::max(mx, p[j * inner]);
      for (int64_t j = 0; j < len; ++j)
        sum += std::exp(p[j * inner] - mx);
      for (int64_t j = 0; j < len; ++j)
        p[j * inner] = log ? p[j * inner] - mx - std::log(sum) : std::exp(p[j * inner] - mx) / sum;
    }
  return out;
}

/// For each element i of `indices`, the offset in a row-major tensor of
/// `shape` at i's position with its `axis` coordinate replaced by the index
/// (ONNX GatherElements / ScatterElements); false on an index out of range.
template <typename F>
bool forEachAxisIndex(const HostTensor &indices, ArrayRef<int64_t> shape, int64_t axis, F f) {
  if (indices.rank() != (int64_t)shape.size())
    return false;
  SmallVector<int64_t, 4> strides = stridesOf(shape), idx(indices.rank(), 0);
  for (int64_t i = 0; i < indices.numElements(); ++i) {
    int64_t off = 0;
    for (int64_t d = 0; d < indices.rank(); ++d) {
      int64_t at = idx[d];
      if (d != axis && at >= shape[d]) // indices wider than the data
        return false;
      if (d == axis) {
        at = (int64_t)indices.data[i];
        if (at < 0)
          at += shape[d];
        if (at < 0 || at >= shape[d])
          return false;
      }
      off += at * strides[d];
    }
    f(i, off);
    for (int64_t d = indices.rank() - 1; d >= 0; --d) {
      if (++idx[d] < indices.shape[d])
        break;
      idx[d] = 0;
    }
  }
  return true;
}

double activate(Activation a, double x) {
  switch (a) {
  case Activation::silu: return unary(UnaryKind::silu, x);
  case Activation::gelu: return unary(UnaryKind::gelu, x);
  case Activation::gelu_tanh: return unary(UnaryKind::gelu_tanh, x);
  case Activation::relu: return unary(UnaryKind::relu, x);
  }
  return NAN;
}

/// down(act(x · gate) * (x · up)) for one row `x` of width H; gate/up are
/// [H, I] at `g`/`u`, down [I, O] at `d`; adds `scale` times it to `out`.
void gatedMlpRow(const double *x, const double *g, const double *u, const double *d, int64_t h,
                 int64_t inter, int64_t o, Activation act, double scale, double *out) {
  std::vector<double> gv(inter, 0.0), uv(inter, 0.0);
  for (int64_t k = 0; k < h; ++k)
    for (int64_t j = 0; j < inter; ++j) {
      gv[j] += x[k] * g[k * inter + j];
      uv[j] += x[k] * u[k * inter + j];
    }
  for (int64_t j = 0; j < inter; ++j) {
    double a = activate(act, gv[j]) * uv[j] * scale;
    for (int64_t c = 0; c < o; ++c)
      out[c] += a * d[j * o + c];
  }
}

/// The indices of the `k` largest (or smallest) of `v`, stably (lower
/// index first among equals).
SmallVector<int64_t, 8> topIndices(ArrayRef<double> v, int64_t k, bool largest) {
  SmallVector<int64_t, 8> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    bool na = std::isnan(v[a]), nb = std::isnan(v[b]); // NaN sorts last
    if (na || nb)
      return na != nb ? nb : a < b;
    if (v[a] != v[b])
      return largest ? v[a] > v[b] : v[a] < v[b];
    return a < b;
  });
  idx.resize(std::min<int64_t>(k, idx.size()));
  return idx;
}

} // namespace

HostTensor evaluateMoe(const MoeReference &m, const HostTensor &hidden) {
  int64_t h = hidden.shape.back(), tokens = hidden.numElements() / std::max<int64_t>(1, h);
  int64_t experts = m.router->shape[1], inter = m.gate->shape[2];
  HostTensor out(hidden.shape);
  for (int64_t t = 0; t < tokens; ++t) {
    const double *x = hidden.data.data() + t * h;
    std::vector<double> logits(experts, 0.0), scores(experts), choice(experts);
    for (int64_t k = 0; k < h; ++k)
      for (int64_t e = 0; e < experts; ++e)
        logits[e] += x[k] * m.router->data[k * experts + e];
    if (m.scoring == ScoreFunc::softmax) {
      double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
      for (int64_t e = 0; e < experts; ++e)
        sum += scores[e] = std::exp(logits[e] - mx);
      for (double &s : scores)
        s /= sum;
    } else {
      for (int64_t e = 0; e < experts; ++e)
        scores[e] = 1.0 / (1.0 + std::exp(-logits[e]));
    }
    for (int64_t e = 0; e < experts; ++e)
      choice[e] = scores[e] + (m.bias ? m.bias->data[e] : 0.0);
    if (m.nGroup > 1) { // groups scored by their two best choices
      int64_t per = experts / m.nGroup;
      std::vector<double> groupScore(m.nGroup);
      for (int64_t g = 0; g < m.nGroup; ++g) {
        SmallVector<int64_t, 8> best =
            topIndices(ArrayRef<double>(choice).slice(g * per, per), 2, true);
        groupScore[g] = 0;
        for (int64_t b : best)
          groupScore[g] += choice[g * per + b];
      }
      SmallVector<int64_t, 8> kept = topIndices(groupScore, m.topkGroup, true);
      std::vector<bool> eligible(m.nGroup, false);
      for (int64_t g : kept)
        eligible[g] = true;
      for (int64_t e = 0; e < experts; ++e)
        if (!eligible[e / per])
          choice[e] = -INFINITY;
    }
    SmallVector<int64_t, 8> chosen = topIndices(choice, m.topK, true);
    std::vector<double> w;
    double sum = 0;
    for (int64_t e : chosen)
      sum += w.emplace_back(scores[e]);
    for (double &x : w)
      x = (m.normalize ? x / sum : x) * m.routedScaling;
    double *o = out.data.data() + t * h;
    for (size_t i = 0; i < chosen.size(); ++i) {
      int64_t e = chosen[i];
      gatedMlpRow(x, m.gate->data.data() + e * h * inter, m.up->data.data() + e * h * inter,
                  m.down->data.data() + e * inter * h, h, inter, h, m.activation, w[i], o);
    }
    if (m.sharedGate) {
      double scale = 1.0;
      if (m.sharedExpertGate) {
        double g = 0;
        for (int64_t k = 0; k < h; ++k)
          g += x[k] * m.sharedExpertGate->data[k];
        scale = 1.0 / (1.0 + std::exp(-g));
      }
      gatedMlpRow(x, m.sharedGate->data.data(), m.sharedUp->data.data(),
                  m.sharedDown->data.data(), h, m.sharedGate->shape[1], h, Activation::silu,
                  scale, o);
    }
  }
  return out;
}

/// A gather of whole matrices of a rank-3 tensor (GatherND at [N, 1] rows,
/// or Gather on axis 0 at [N] rows) whose only user is a matmul's left
/// operand: the matmul reads the source through the indices instead of a
/// copy (a batched_mm MoE gathers each token's expert weights: gigabytes
/// once in double precision).
static Operation *matrixGather(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !v.hasOneUse())
    return nullptr;
  auto mm = dyn_cast<MatmulOp>(*v.getUsers().begin());
  if (!mm || mm.getLhs() != v)
    return nullptr;
  auto rank = [](Value x) {
    auto t = dyn_cast<RankedTensorType>(x.getType());
    return t ? t.getRank() : -1;
  };
  if (auto g = dyn_cast<GatherNdOp>(def)) {
    auto it = dyn_cast<RankedTensorType>(g.getIndices().getType());
    if (g.getBatchDims() == 0 && rank(g.getData()) == 3 && it && it.getRank() == 2 &&
        it.getShape().back() == 1)
      return def;
  }
  if (auto g = dyn_cast<GatherOp>(def))
    if (g.getAxis() == 0 && rank(g.getData()) == 3 && rank(g.getIndices()) == 1)
      return def;
  return nullptr;
}

bool Interpreter::charge(uint64_t work) {
  spent += work;
  return spent <= budget;
}

LogicalResult Interpreter::fail(Operation *op, const Twine &reason) {
  std::string node;
  if (auto name = dyn_cast<NameLoc>(op->getLoc())) // the ONNX node
    node = " (node '" + name.getName().str() + "')";
  why = ("'" + op->getName().getStringRef() + "'" + node + ": " + reason).str();
  return failure();
}

const HostTensor *Interpreter::evaluate(Value root) {
  // Post-order over the operands, without recursion (graphs are deep).
  SmallVector<std::pair<Value, bool>> stack = {{root, false}};
  while (!stack.empty()) {
    auto [v, ready] = stack.pop_back_val();
    if (values.count(v))
      continue;
    Operation *op = v.getDefiningOp();
    if (!op) {
      why = "an input of the subgraph is not known (a model input other than the one bound)";
      return nullptr;
    }
    if (ready) {
      // A dim no binding decides (NaN in a resolved shape) may be moved
      // along (sliced, gathered, concatenated, reshaped) but not used.
      if (unknownDims)
        for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
          bool moved = (i == 0 && isa<SliceOp, GatherOp, ReshapeOp>(op)) || isa<ConcatOp>(op);
          auto it = values.find(operand); // (a matmul's gathered operand is not)
          if (!moved && it != values.end() && isIntegerTensor(operand) &&
              llvm::any_of(it->second.data, [](double x) { return std::isnan(x); })) {
            (void)fail(op, "reads a dim of a model input that the bound values do not decide");
            return nullptr;
          }
        }
      if (failed(evaluateOp(op)))
        return nullptr;
      continue;
    }
    // The shape of a model input not bound (the resolver's sizes).
    if (isa<ShapeOp>(op) && isa<BlockArgument>(op->getOperand(0)) &&
        !values.count(op->getOperand(0)))
      if (std::optional<HostTensor> shape = resolvedShape(op->getOperand(0))) {
        values[v] = std::move(*shape);
        continue;
      }
    stack.push_back({v, true});
    for (Value operand : op->getOperands()) {
      if (values.count(operand))
        continue;
      if (Operation *g = isa<MatmulOp>(op) ? matrixGather(operand) : nullptr) {
        for (Value in : g->getOperands()) // read in place by the matmul
          if (!values.count(in))
            stack.push_back({in, false});
        continue;
      }
      stack.push_back({operand, false});
    }
  }
  return &values.find(root)->second;
}

std::optional<HostTensor> Interpreter::resolvedShape(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!resolveDim || !t)
    return std::nullopt;
  HostTensor out({t.getRank()});
  bool any = false;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    std::optional<int64_t> size =
        t.isDynamicDim(d) ? resolveDim(v, d) : std::optional<int64_t>(t.getDimSize(d));
    any |= size && t.isDynamicDim(d);
    out.data[d] = size ? (double)*size : std::nan("");
    unknownDims |= !size;
  }
  if (!any && t.getNumDynamicDims() > 0)
    return std::nullopt;
  return out;
}

LogicalResult Interpreter::evaluateOp(Operation *op) {
  auto setResult = [&](unsigned i, HostTensor t) { values[op->getResult(i)] = std::move(t); };

  for (Value operand : op->getOperands())
    if (auto it = values.find(operand);
        it != values.end() && !charge(it->second.numElements()))
      return fail(op, "the subgraph is too large to evaluate at compile time");

  // Constants and weights.
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense)
      return fail(op, "not a dense constant");
    HostTensor t(cast<ShapedType>(dense.getType()).getShape());
    Type elt = dense.getElementType();
    if (isa<FloatType>(elt)) {
      int64_t i = 0;
      for (APFloat f : dense.getValues<APFloat>()) {
        bool lost;
        f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
        t.data[i++] = f.convertToDouble();
      }
    } else if (elt.isInteger(1)) {
      int64_t i = 0;
      for (bool b : dense.getValues<bool>())
        t.data[i++] = b;
    } else if (isa<IntegerType>(elt)) {
      int64_t i = 0;
      for (const APInt &a : dense.getValues<APInt>())
        t.data[i++] = elt.isUnsignedInteger() ? (double)a.getZExtValue() : (double)a.getSExtValue();
    } else {
      return fail(op, "a constant of an unsupported element type");
    }
    setResult(0, std::move(t));
    return success();
  }
  if (auto w = dyn_cast<WeightOp>(op)) {
    auto type = cast<RankedTensorType>(w.getType());
    Type elt = type.getElementType();
    uint64_t bytes = elt.isIntOrFloat() ? elementStorageBytes(elt) : 0;
    if (!bytes || !type.hasStaticShape())
      return fail(op, "a weight of an unsupported type");
    HostTensor t(type.getShape());
    auto file = llvm::MemoryBuffer::getFileSlice(w.getFile(), t.numElements() * bytes,
                                                 w.getOffset(), /*IsVolatile=*/false);
    if (!file)
      return fail(op, "cannot read weight '" + w.getName() + "'");
    const char *p = (*file)->getBufferStart();
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data[i] = decodeElement(elt, p + i * bytes);
    setResult(0, std::move(t));
    return success();
  }

  // Elementwise.
  if (auto u = dyn_cast<UnaryOp>(op)) {
    HostTensor t = operand(op, 0);
    for (double &x : t.data)
      x = unary(u.getKind(), x);
    setResult(0, std::move(t));
    return success();
  }
  auto broadcast2 = [&](auto f) -> LogicalResult {
    const HostTensor &a = operand(op, 0), &b = operand(op, 1);
    std::optional<SmallVector<int64_t, 4>> shape = broadcastShapes(a.shape, b.shape);
    if (!shape)
      return fail(op, "operands do not broadcast");
    HostTensor out(*shape);
    forEachBroadcast<2>(*shape, {ArrayRef<int64_t>(a.shape), ArrayRef<int64_t>(b.shape)},
                        [&](int64_t i, std::array<int64_t, 2> off) {
                          out.data[i] = f(a.data[off[0]], b.data[off[1]]);
                        });
    setResult(0, std::move(out));
    return success();
  };
  if (auto b = dyn_cast<BinaryOp>(op)) {
    bool integer = isIntegerTensor(b.getResult());
    return broadcast2([&](double x, double y) { return binary(b.getKind(), x, y, integer); });
  }
  if (auto c = dyn_cast<CompareOp>(op))
    return broadcast2([&](double x, double y) { return (double)compare(c.getKind(), x, y); });
  if (auto w = dyn_cast<WhereOp>(op)) {
    const HostTensor &c = operand(op, 0), &a = operand(op, 1), &b = operand(op, 2);
    std::optional<SmallVector<int64_t, 4>> s1 = broadcastShapes(c.shape, a.shape);
    std::optional<SmallVector<int64_t, 4>> shape = s1 ? broadcastShapes(*s1, b.shape) : s1;
    if (!shape)
      return fail(op, "operands do not broadcast");
    HostTensor out(*shape);
    forEachBroadcast<3>(*shape,
                        {ArrayRef<int64_t>(c.shape), ArrayRef<int64_t>(a.shape),
                         ArrayRef<int64_t>(b.shape)},
                        [&](int64_t i, std::array<int64_t, 3> off) {
                          out.data[i] = c.data[off[0]] != 0 ? a.data[off[1]] : b.data[off[2]];
                        });
    setResult(0, std::move(out));
    return success();
  }
  if (auto c = dyn_cast<CastOp>(op)) {
    HostTensor t = operand(op, 0);
    Type to = cast<ShapedType>(c.getType()).getElementType();
    if (to.isInteger(1)) {
      for (double &x : t.data)
        x = x != 0;
    } else if (isa<IntegerType>(to)) {
      for (double &x : t.data) {
        if (!std::isfinite(x))
          return fail(op, "casts a non-finite value to an integer");
        x = std::trunc(x);
      }
    }
    setResult(0, std::move(t));
    return success();
  }

  // Contractions and normalizations.
  if (auto mm = dyn_cast<MatmulOp>(op); mm && matrixGather(mm.getLhs())) {
    // out[n] = source[index[n]] · rhs[n], the gathered copy never made;
    // rows whose right operand is all zeros (tokens not drawn) are skipped.
    Operation *g = mm.getLhs().getDefiningOp();
    const HostTensor &src = values.find(g->getOperand(0))->second,
                     &idx = values.find(g->getOperand(1))->second, &b = operand(op, 1);
    int64_t n = idx.numElements(), e = src.shape[0], rows = src.shape[1], k = src.shape[2];
    if (b.rank() != 3 || (b.shape[0] != n && b.shape[0] != 1) || b.shape[1] != k)
      return fail(op, "operand shapes do not multiply");
    int64_t cols = b.shape[2];
    HostTensor out({n, rows, cols});
    for (int64_t i = 0; i < n; ++i) {
      int64_t at = (int64_t)idx.data[i];
      if (at < 0)
        at += e;
      if (at < 0 || at >= e)
        return fail(g, "an index is out of range");
      const double *pb = b.data.data() + (b.shape[0] == 1 ? 0 : i) * k * cols;
      if (std::all_of(pb, pb + k * cols, [](double x) { return x == 0; }))
        continue;
      if (!charge((uint64_t)rows * k * cols))
        return fail(op, "the subgraph is too large to evaluate at compile time");
      const double *pa = src.data.data() + at * rows * k;
      double *po = out.data.data() + i * rows * cols;
      if (cols == 1) { // matrix times vector: dot products
        for (int64_t r = 0; r < rows; ++r) {
          double sum = 0;
          for (int64_t kk = 0; kk < k; ++kk)
            sum += pa[r * k + kk] * pb[kk];
          po[r] = sum;
        }
        continue;
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t kk = 0; kk < k; ++kk) {
          double x = pa[r * k + kk];
          for (int64_t c = 0; c < cols; ++c)
            po[r * cols + c] += x * pb[kk * cols + c];
        }
    }
    setResult(0, std::move(out));
    return success();
  }
  if (isa<MatmulOp>(op)) {
    const HostTensor &a = operand(op, 0), &b = operand(op, 1);
    int64_t k = a.shape.empty() ? 1 : a.shape.back();
    int64_t n = b.rank() >= 2 ? b.shape.back() : 1;
    int64_t batchB = b.rank() > 2 ? b.numElements() / std::max<int64_t>(1, k * n) : 1;
    int64_t rowsA = a.numElements() / std::max<int64_t>(1, k);
    // Multiply-adds: every row of a (batched) times the columns of b, more
    // when b's batch broadcasts over a's rows.
    uint64_t macs = (uint64_t)std::max(rowsA, batchB * (a.rank() >= 2 ? a.shape[a.rank() - 2] : 1)) *
                    (uint64_t)k * (uint64_t)n;
    if (!charge(macs))
      return fail(op, "the subgraph is too large to evaluate at compile time");
    std::optional<HostTensor> out = matmul(a, b);
    if (!out)
      return fail(op, "operand shapes do not multiply");
    setResult(0, std::move(*out));
    return success();
  }
  if (auto g = dyn_cast<GemmOp>(op)) {
    HostTensor a = operand(op, 0), b = operand(op, 1);
    if (a.rank() != 2 || b.rank() != 2)
      return fail(op, "operands are not matrices");
    if (g.getTransA())
      a = transposed(a, {1, 0});
    if (g.getTransB())
      b = transposed(b, {1, 0});
    if (!charge((uint64_t)a.numElements() * b.shape[1]))
      return fail(op, "the subgraph is too large to evaluate at compile time");
    std::optional<HostTensor> out = matmul(a, b);
    if (!out)
      return fail(op, "operand shapes do not multiply");
    for (double &x : out->data)
      x *= g.getAlpha().convertToDouble();
    if (g.getC()) {
      const HostTensor &c = operand(op, 2);
      double beta = g.getBeta().convertToDouble();
      forEachBroadcast<1>(out->shape, {ArrayRef<int64_t>(c.shape)},
                          [&](int64_t i, std::array<int64_t, 1> off) {
                            out->data[i] += beta * c.data[off[0]];
                          });
    }
    setResult(0, std::move(*out));
    return success();
  }
  if (auto s = dyn_cast<SoftmaxOp>(op)) {
    const HostTensor &in = operand(op, 0);
    setResult(0, softmax(in, normAxis(s.getAxis(), in.rank()), s.getLog()));
    return success();
  }
  if (auto r = dyn_cast<ReduceOp>(op)) {
    const HostTensor &in = operand(op, 0);
    SmallVector<int64_t> axes(r.getAxes());
    if (r.getRuntimeAxes()) {
      axes.clear();
      for (double a : operand(op, 1).data)
        axes.push_back((int64_t)a);
    }
    SmallVector<bool, 4> reduced(in.rank(), axes.empty() && !r.getNoopWithEmptyAxes());
    for (int64_t a : axes)
      reduced[normAxis(a, in.rank())] = true;
    SmallVector<int64_t, 4> keptShape(in.shape);
    for (int64_t d = 0; d < in.rank(); ++d)
      if (reduced[d])
        keptShape[d] = 1;
    HostTensor acc(keptShape, 0.0);
    ReduceKind kind = r.getKind();
    if (kind == ReduceKind::max || kind == ReduceKind::min)
      acc.data.assign(acc.data.size(), kind == ReduceKind::max ? -INFINITY : INFINITY);
    if (kind == ReduceKind::prod)
      acc.data.assign(acc.data.size(), 1.0);
    std::vector<double> mx;
    if (kind == ReduceKind::log_sum_exp) {
      mx.assign(acc.data.size(), -INFINITY);
      forEachBroadcast<1>(in.shape, {ArrayRef<int64_t>(keptShape)},
                          [&](int64_t i, std::array<int64_t, 1> o) {
                            mx[o[0]] = std::max(mx[o[0]], in.data[i]);
                          });
    }
    int64_t count = in.numElements() / std::max<int64_t>(1, acc.numElements());
    forEachBroadcast<1>(in.shape, {ArrayRef<int64_t>(keptShape)},
                        [&](int64_t i, std::array<int64_t, 1> o) {
                          double x = in.data[i], &a = acc.data[o[0]];
                          switch (kind) {
                          case ReduceKind::sum:
                          case ReduceKind::mean:
                          case ReduceKind::log_sum: a += x; break;
                          case ReduceKind::max: a = std::max(a, x); break;
                          case ReduceKind::min: a = std::min(a, x); break;
                          case ReduceKind::prod: a *= x; break;
                          case ReduceKind::l1: a += std::fabs(x); break;
                          case ReduceKind::l2:
                          case ReduceKind::sum_square: a += x * x; break;
                          case ReduceKind::log_sum_exp: a += std::exp(x - mx[o[0]]); break;
                          }
                        });
    for (int64_t i = 0; i < acc.numElements(); ++i) {
      double &a = acc.data[i];
      if (kind == ReduceKind::mean)
        a /= count;
      else if (kind == ReduceKind::l2)
        a = std::sqrt(a);
      else if (kind == ReduceKind::log_sum)
        a = std::log(a);
      else if (kind == ReduceKind::log_sum_exp)
        a = std::log(a) + mx[i];
    }
    if (!r.getKeepdims()) {
      SmallVector<int64_t, 4> dropped;
      for (int64_t d = 0; d < in.rank(); ++d)
        if (!reduced[d])
          dropped.push_back(in.shape[d]);
      acc.shape = dropped;
    }
    setResult(0, std::move(acc));
    return success();
  }
  if (auto t = dyn_cast<TopKOp>(op)) {
    const HostTensor &in = operand(op, 0);
    int64_t k = t.getK();
    if (t.getRuntimeK())
      k = (int64_t)operand(op, 1).data[0];
    int64_t axis = normAxis(t.getAxis(), in.rank());
    int64_t len = in.shape[axis], inner = 1;
    for (int64_t d = axis + 1; d < in.rank(); ++d)
      inner *= in.shape[d];
    int64_t outer = in.numElements() / std::max<int64_t>(1, len * inner);
    if (k > len)
      return fail(op, "k exceeds the axis");
    SmallVector<int64_t, 4> shape(in.shape);
    shape[axis] = k;
    HostTensor vals(shape), idx(shape);
    std::vector<double> row(len);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t j = 0; j < len; ++j)
          row[j] = in.data[(o * len + j) * inner + i];
        SmallVector<int64_t, 8> best = topIndices(row, k, t.getLargest());
        for (int64_t j = 0; j < k; ++j) {
          vals.data[(o * k + j) * inner + i] = row[best[j]];
          idx.data[(o * k + j) * inner + i] = (double)best[j];
        }
      }
    setResult(0, std::move(vals));
    setResult(1, std::move(idx));
    return success();
  }
  if (auto a = dyn_cast<ArgReduceOp>(op)) {
    const HostTensor &in = operand(op, 0);
    int64_t axis = normAxis(a.getAxis(), in.rank());
    int64_t len = in.shape[axis], inner = 1;
    for (int64_t d = axis + 1; d < in.rank(); ++d)
      inner *= in.shape[d];
    int64_t outer = in.numElements() / std::max<int64_t>(1, len * inner);
    SmallVector<int64_t, 4> shape(in.shape);
    shape[axis] = 1;
    HostTensor out(shape);
    bool isMax = a.getKind() == ArgKind::argmax;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        for (int64_t j = 1; j < len; ++j) {
          double x = in.data[(o * len + j) * inner + i], b = in.data[(o * len + best) * inner + i];
          if (isMax ? (x > b || (x == b && a.getSelectLastIndex()))
                    : (x < b || (x == b && a.getSelectLastIndex())))
            best = j;
        }
        out.data[o * inner + i] = (double)best;
      }
    if (!a.getKeepdims())
      out.shape.erase(out.shape.begin() + axis);
    setResult(0, std::move(out));
    return success();
  }

  // Views and data movement.
  if (auto t = dyn_cast<TransposeOp>(op)) {
    setResult(0, transposed(operand(op, 0), t.getPerm()));
    return success();
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    HostTensor t = operand(op, 0);
    std::optional<SmallVector<int64_t, 4>> shape;
    if (r.getShape()) {
      shape = reshapeTarget(t.shape, operand(op, 1), r.getAllowzero());
    } else { // the result type, its one dynamic dim (if any) inferred
      HostTensor spec({cast<RankedTensorType>(r.getType()).getRank()});
      for (auto [i, d] : llvm::enumerate(cast<RankedTensorType>(r.getType()).getShape()))
        spec.data[i] = ShapedType::isDynamic(d) ? -1.0 : (double)d;
      shape = reshapeTarget(t.shape, spec, /*allowZero=*/true);
    }
    int64_t n = 1;
    for (int64_t d : shape ? *shape : ArrayRef<int64_t>())
      n *= d;
    if (!shape || n != t.numElements())
      return fail(op, "the new shape does not hold the elements");
    t.shape = *shape;
    setResult(0, std::move(t));
    return success();
  }
  if (auto e = dyn_cast<ExpandOp>(op)) {
    const HostTensor &in = operand(op, 0);
    std::optional<SmallVector<int64_t, 4>> target;
    if (e.getShape()) {
      SmallVector<int64_t, 4> spec;
      for (double d : operand(op, 1).data)
        spec.push_back((int64_t)d);
      target = broadcastShapes(in.shape, spec);
    } else { // the result type; a dynamic dim keeps the input's
      auto rt = cast<RankedTensorType>(e.getType());
      SmallVector<int64_t, 4> spec(rt.getShape());
      int64_t lead = rt.getRank() - in.rank();
      for (int64_t d = 0; d < rt.getRank(); ++d)
        if (ShapedType::isDynamic(spec[d]))
          spec[d] = d >= lead ? in.shape[d - lead] : 1;
      target = broadcastShapes(in.shape, spec);
    }
    if (!target)
      return fail(op, "the shape does not broadcast");
    HostTensor out(*target);
    forEachBroadcast<1>(*target, {ArrayRef<int64_t>(in.shape)},
                        [&](int64_t i, std::array<int64_t, 1> off) { out.data[i] = in.data[off[0]]; });
    setResult(0, std::move(out));
    return success();
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    const HostTensor &in = operand(op, 0);
    int64_t rank = in.rank();
    SmallVector<int64_t, 4> starts(rank, 0), ends(in.shape), steps(rank, 1);
    if (s.getRuntimeStarts() || s.getRuntimeEnds() || s.getRuntimeAxes() || s.getRuntimeSteps()) {
      auto vec = [&](Value v) {
        SmallVector<int64_t, 4> out;
        for (double d : values.find(v)->second.data)
          out.push_back((int64_t)d);
        return out;
      };
      SmallVector<int64_t, 4> st = s.getRuntimeStarts() ? vec(s.getRuntimeStarts())
                                                         : SmallVector<int64_t, 4>(s.getStarts());
      SmallVector<int64_t, 4> en = s.getRuntimeEnds() ? vec(s.getRuntimeEnds())
                                                       : SmallVector<int64_t, 4>(s.getEnds());
      SmallVector<int64_t, 4> ax, sp;
      if (s.getRuntimeAxes())
        ax = vec(s.getRuntimeAxes());
      else
        for (size_t i = 0; i < st.size(); ++i)
          ax.push_back(i);
      sp = s.getRuntimeSteps() ? vec(s.getRuntimeSteps())
                               : SmallVector<int64_t, 4>(s.getSteps().empty()
                                                             ? SmallVector<int64_t>(st.size(), 1)
                                                             : SmallVector<int64_t>(s.getSteps()));
      if (en.size() != st.size() || ax.size() != st.size() || sp.size() != st.size())
        return fail(op, "starts, ends, axes and steps differ in length");
      for (size_t i = 0; i < st.size(); ++i) {
        int64_t a = normAxis(ax[i], rank);
        starts[a] = st[i];
        ends[a] = en[i];
        steps[a] = sp[i];
      }
    } else {
      if ((int64_t)s.getStarts().size() != rank)
        return fail(op, "static starts of another rank");
      for (int64_t d = 0; d < rank; ++d) {
        starts[d] = s.getStarts()[d];
        ends[d] = s.getEnds()[d];
        steps[d] = s.getSteps()[d];
      }
    }
    SmallVector<int64_t, 4> shape(rank), first(rank);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim = in.shape[d], st = starts[d], en = ends[d], sp = steps[d];
      if (sp == 0)
        return fail(op, "a zero step");
      if (st < 0)
        st += dim;
      if (en < 0)
        en += dim;
      if (sp > 0) {
        st = std::clamp<int64_t>(st, 0, dim);
        en = std::clamp<int64_t>(en, 0, dim);
        shape[d] = en > st ? (en - st + sp - 1) / sp : 0;
      } else {
        st = std::clamp<int64_t>(st, -1, dim - 1);
        en = std::clamp<int64_t>(en, -1, dim - 1);
        shape[d] = st > en ? (st - en - sp - 1) / -sp : 0;
      }
      first[d] = st;
    }
    HostTensor out(shape);
    SmallVector<int64_t, 4> inStrides = stridesOf(in.shape);
    SmallVector<int64_t, 4> idx(rank, 0);
    for (int64_t i = 0; i < out.numElements(); ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < rank; ++d)
        off += (first[d] + idx[d] * steps[d]) * inStrides[d];
      out.data[i] = in.data[off];
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < shape[d])
          break;
        idx[d] = 0;
      }
    }
    setResult(0, std::move(out));
    return success();
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    const HostTensor &first = operand(op, 0);
    int64_t axis = normAxis(c.getAxis(), first.rank());
    SmallVector<int64_t, 4> shape(first.shape);
    shape[axis] = 0;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      shape[axis] += operand(op, i).shape[axis];
    HostTensor out(shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
    for (int64_t d = axis + 1; d < first.rank(); ++d)
      inner *= shape[d];
    int64_t at = 0;
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      const HostTensor &part = operand(op, i);
      int64_t len = part.shape[axis];
      for (int64_t o = 0; o < outer; ++o)
        std::copy_n(part.data.begin() + o * len * inner, len * inner,
                    out.data.begin() + (o * shape[axis] + at) * inner);
      at += len;
    }
    setResult(0, std::move(out));
    return success();
  }
  if (isa<ShapeOp>(op)) {
    const HostTensor &in = operand(op, 0);
    HostTensor out({in.rank()});
    for (int64_t d = 0; d < in.rank(); ++d)
      out.data[d] = (double)in.shape[d];
    setResult(0, std::move(out));
    return success();
  }
  if (auto g = dyn_cast<GatherOp>(op)) {
    const HostTensor &data = operand(op, 0), &indices = operand(op, 1);
    int64_t axis = normAxis(g.getAxis(), data.rank()), len = data.shape[axis];
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= data.shape[d];
    for (int64_t d = axis + 1; d < data.rank(); ++d)
      inner *= data.shape[d];
    SmallVector<int64_t, 4> shape(data.shape.begin(), data.shape.begin() + axis);
    shape.append(indices.shape.begin(), indices.shape.end());
    shape.append(data.shape.begin() + axis + 1, data.shape.end());
    HostTensor out(shape);
    int64_t n = indices.numElements();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < n; ++j) {
        int64_t i = (int64_t)indices.data[j];
        if (i < 0)
          i += len;
        if (i < 0 || i >= len)
          return fail(op, "an index is out of range");
        std::copy_n(data.data.begin() + (o * len + i) * inner, inner,
                    out.data.begin() + (o * n + j) * inner);
      }
    setResult(0, std::move(out));
    return success();
  }
  if (auto g = dyn_cast<GatherElementsOp>(op)) {
    const HostTensor &data = operand(op, 0), &indices = operand(op, 1);
    HostTensor out(indices.shape);
    if (!forEachAxisIndex(indices, data.shape, normAxis(g.getAxis(), data.rank()),
                          [&](int64_t i, int64_t off) { out.data[i] = data.data[off]; }))
      return fail(op, "an index is out of range");
    setResult(0, std::move(out));
    return success();
  }
  auto combine = [](ScatterReduction r, double &dst, double x) {
    switch (r) {
    case ScatterReduction::none: dst = x; break;
    case ScatterReduction::add: dst += x; break;
    case ScatterReduction::mul: dst *= x; break;
    case ScatterReduction::max: dst = std::max(dst, x); break;
    case ScatterReduction::min: dst = std::min(dst, x); break;
    }
  };
  if (auto s = dyn_cast<ScatterElementsOp>(op)) {
    HostTensor out = operand(op, 0);
    const HostTensor &indices = operand(op, 1), &updates = operand(op, 2);
    if (updates.shape != indices.shape)
      return fail(op, "updates and indices differ in shape");
    if (!forEachAxisIndex(indices, out.shape, normAxis(s.getAxis(), out.rank()),
                          [&](int64_t i, int64_t off) {
                            combine(s.getReduction(), out.data[off], updates.data[i]);
                          }))
      return fail(op, "an index is out of range");
    setResult(0, std::move(out));
    return success();
  }
  if (auto g = dyn_cast<GatherNdOp>(op)) {
    const HostTensor &data = operand(op, 0), &indices = operand(op, 1);
    int64_t b = g.getBatchDims(), q = indices.shape.back();
    int64_t batch = 1;
    for (int64_t d = 0; d < b; ++d)
      batch *= data.shape[d];
    int64_t slice = 1;
    for (int64_t d = b + q; d < data.rank(); ++d)
      slice *= data.shape[d];
    int64_t perBatch = indices.numElements() / std::max<int64_t>(1, q * batch);
    SmallVector<int64_t, 4> shape(indices.shape.begin(), indices.shape.end() - 1);
    shape.append(data.shape.begin() + b + q, data.shape.end());
    HostTensor out(shape);
    SmallVector<int64_t, 4> strides = stridesOf(data.shape);
    int64_t batchStride = b ? strides[b - 1] : 0;
    for (int64_t bi = 0; bi < batch; ++bi)
      for (int64_t j = 0; j < perBatch; ++j) {
        int64_t off = bi * batchStride, row = bi * perBatch + j;
        for (int64_t k = 0; k < q; ++k) {
          int64_t at = (int64_t)indices.data[row * q + k], dim = data.shape[b + k];
          if (at < 0)
            at += dim;
          if (at < 0 || at >= dim)
            return fail(op, "an index is out of range");
          off += at * strides[b + k];
        }
        std::copy_n(data.data.begin() + off, slice, out.data.begin() + row * slice);
      }
    setResult(0, std::move(out));
    return success();
  }
  if (auto s = dyn_cast<ScatterNdOp>(op)) {
    HostTensor out = operand(op, 0);
    const HostTensor &indices = operand(op, 1), &updates = operand(op, 2);
    int64_t q = indices.shape.back(), slice = 1;
    for (int64_t d = q; d < out.rank(); ++d)
      slice *= out.shape[d];
    SmallVector<int64_t, 4> strides = stridesOf(out.shape);
    int64_t rows = indices.numElements() / std::max<int64_t>(1, q);
    for (int64_t j = 0; j < rows; ++j) {
      int64_t off = 0;
      for (int64_t k = 0; k < q; ++k) {
        int64_t at = (int64_t)indices.data[j * q + k];
        if (at < 0)
          at += out.shape[k];
        if (at < 0 || at >= out.shape[k])
          return fail(op, "an index is out of range");
        off += at * strides[k];
      }
      for (int64_t i = 0; i < slice; ++i)
        combine(s.getReduction(), out.data[off + i], updates.data[j * slice + i]);
    }
    setResult(0, std::move(out));
    return success();
  }
  if (isa<NonZeroOp>(op)) {
    const HostTensor &in = operand(op, 0);
    SmallVector<int64_t> hits;
    for (int64_t i = 0; i < in.numElements(); ++i)
      if (in.data[i] != 0)
        hits.push_back(i);
    int64_t n = hits.size();
    HostTensor out({in.rank(), n});
    SmallVector<int64_t, 4> strides = stridesOf(in.shape);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t d = 0; d < in.rank(); ++d)
        out.data[d * n + j] = (double)((hits[j] / strides[d]) % in.shape[d]);
    setResult(0, std::move(out));
    return success();
  }
  if (auto c = dyn_cast<CumsumOp>(op)) {
    HostTensor out = operand(op, 0);
    int64_t axis = c.getRuntimeAxis() ? (int64_t)operand(op, 1).data[0] : c.getAxis();
    axis = normAxis(axis, out.rank());
    int64_t len = out.shape[axis], inner = 1;
    for (int64_t d = axis + 1; d < out.rank(); ++d)
      inner *= out.shape[d];
    int64_t outer = out.numElements() / std::max<int64_t>(1, len * inner);
    const HostTensor &in = operand(op, 0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double sum = 0;
        for (int64_t jj = 0; jj < len; ++jj) {
          int64_t j = c.getReverse() ? len - 1 - jj : jj;
          int64_t at = (o * len + j) * inner + i;
          if (c.getExclusive()) {
            out.data[at] = sum;
            sum += in.data[at];
          } else {
            sum += in.data[at];
            out.data[at] = sum;
          }
        }
      }
    setResult(0, std::move(out));
    return success();
  }
  if (isa<RangeOp>(op)) {
    double start = operand(op, 0).data[0], limit = operand(op, 1).data[0],
           delta = operand(op, 2).data[0];
    if (delta == 0)
      return fail(op, "a zero delta");
    int64_t n = std::max<int64_t>(0, (int64_t)std::ceil((limit - start) / delta));
    HostTensor out({n});
    for (int64_t i = 0; i < n; ++i)
      out.data[i] = start + i * delta;
    setResult(0, std::move(out));
    return success();
  }

  // Fused ops.
  if (auto g = dyn_cast<GatedMlpOp>(op)) {
    const HostTensor &x = operand(op, 0), &gate = operand(op, 1), &up = operand(op, 2),
                     &down = operand(op, 3);
    int64_t h = gate.shape[0], inter = gate.shape[1], o = down.shape[1];
    int64_t rows = x.numElements() / std::max<int64_t>(1, h);
    if (!charge((uint64_t)rows * 3 * h * inter))
      return fail(op, "the subgraph is too large to evaluate at compile time");
    SmallVector<int64_t, 4> shape(x.shape);
    shape.back() = o;
    HostTensor out(shape);
    for (int64_t r = 0; r < rows; ++r)
      gatedMlpRow(x.data.data() + r * h, gate.data.data(), up.data.data(), down.data.data(), h,
                  inter, o, g.getActivation(), 1.0, out.data.data() + r * o);
    setResult(0, std::move(out));
    return success();
  }
  if (auto m = dyn_cast<MoeOp>(op)) {
    auto get = [&](Value v) { return v ? &values.find(v)->second : nullptr; };
    MoeReference ref;
    ref.scoring = m.getScoring();
    ref.topK = m.getTopK();
    ref.nGroup = m.getNGroup();
    ref.topkGroup = m.getTopkGroup();
    ref.normalize = m.getNormalize();
    ref.routedScaling = m.getRoutedScalingFactor().convertToDouble();
    ref.activation = m.getActivation();
    ref.router = get(m.getRouterWeight());
    ref.gate = get(m.getGateWeight());
    ref.up = get(m.getUpWeight());
    ref.down = get(m.getDownWeight());
    ref.bias = get(m.getScoreBias());
    ref.sharedGate = get(m.getSharedGate());
    ref.sharedUp = get(m.getSharedUp());
    ref.sharedDown = get(m.getSharedDown());
    ref.sharedExpertGate = get(m.getSharedExpertGate());
    setResult(0, evaluateMoe(ref, operand(op, 0)));
    return success();
  }
  return fail(op, "not evaluated at compile time yet");
}

} // namespace kiln::fusion
