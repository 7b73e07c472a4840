//===- ConstantEvaluation.cpp - values of constant-only subgraphs ---------===//
//
// Some fusions depend on values, not only on structure: whether an
// attention mask is the causal triangle, whether an accumulator starts at
// zero. Exporters write the causal mask as data (a registered buffer of -inf above
// the diagonal) or build it in the graph (Trilu of a -inf fill, or
// Where(Range_j > Range_i, -inf, 0), with Expand/Reshape/Cast/Slice around
// it). Either way the mask only depends on constants, so it is evaluated
// here point by point, straight from the IR: constants and weights are read
// (weights from their files), and each op maps an index of its result to
// indices of its operands. No tensor is materialized, so a 4096 x 4096 mask
// costs time, not memory.
//
// The mask may replace `causal` when every position is 0 where query i sees
// key j (j <= i + L - Sq) and hidden elsewhere: -inf or below -1e30 (a
// float's lowest, what Hugging Face writes). With L >= Sq each row sees at
// least one key, so exp(-1e30 - max) is exactly 0 and the two agree.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"
#include "lib/support/StorageBytes.h"
#include "passes/Fusion/Interpreter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

using namespace mlir;

namespace kiln::fusion {
namespace {

/// The value of a constant-only tensor at an index (null when the tensor is
/// not one the evaluator understands).
using Eval = std::function<std::optional<double>(ArrayRef<int64_t>)>;

/// Builds an Eval per value once: shapes, scalars and file mappings are
/// looked up when building, so evaluating a point is a few calls.
class PointEvaluator {
public:
  Eval build(Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    Operation *op = v.getDefiningOp();
    if (!type || !type.hasStaticShape() || !op)
      return nullptr;
    SmallVector<int64_t> shape(type.getShape());
    if (auto w = dyn_cast<WeightOp>(op))
      return weight(w, shape);
    if (op->hasTrait<OpTrait::ConstantLike>()) {
      ElementsAttr attr;
      if (!matchPattern(v, m_Constant(&attr)))
        return nullptr;
      if (attr.isSplat()) {
        std::optional<double> x = constantAt(attr, 0);
        return [x](ArrayRef<int64_t>) { return x; };
      }
      return [attr, shape](ArrayRef<int64_t> i) { return constantAt(attr, linear(shape, i)); };
    }
    if (auto b = dyn_cast<BinaryOp>(op))
      return binary(b, isa<IntegerType>(type.getElementType()));
    if (auto c = dyn_cast<CompareOp>(op))
      return compare(c);
    if (auto w = dyn_cast<WhereOp>(op)) {
      Eval cond = operand(w.getCondition()), x = operand(w.getTrueValue()),
           y = operand(w.getFalseValue());
      if (!cond || !x || !y)
        return nullptr;
      return [=](ArrayRef<int64_t> i) -> std::optional<double> {
        std::optional<double> c = cond(i);
        if (!c)
          return c;
        return *c != 0 ? x(i) : y(i);
      };
    }
    if (auto c = dyn_cast<CastOp>(op)) {
      Eval in = build(c.getInput());
      Type to = type.getElementType();
      if (!in)
        return nullptr;
      return [=](ArrayRef<int64_t> i) -> std::optional<double> {
        std::optional<double> x = in(i);
        if (!x)
          return x;
        if (to.isInteger(1))
          return *x != 0 ? 1.0 : 0.0;
        return isa<IntegerType>(to) ? std::trunc(*x) : *x;
      };
    }
    if (auto e = dyn_cast<ExpandOp>(op))
      return operand(e.getInput());
    if (auto r = dyn_cast<ReshapeOp>(op)) {
      auto in = dyn_cast<RankedTensorType>(r.getInput().getType());
      Eval input = build(r.getInput());
      if (!in || !in.hasStaticShape() || !input)
        return nullptr;
      SmallVector<int64_t> inShape(in.getShape());
      return [=](ArrayRef<int64_t> i) { return input(delinearize(inShape, linear(shape, i))); };
    }
    if (auto t = dyn_cast<TriluOp>(op)) {
      int64_t k = 0;
      if (t.getK()) {
        std::optional<double> kv = scalarConstant(t.getK());
        if (!kv)
          return nullptr;
        k = (int64_t)*kv;
      }
      Eval in = build(t.getInput());
      bool upper = t.getUpper();
      if (!in)
        return nullptr;
      return [=](ArrayRef<int64_t> i) -> std::optional<double> {
        int64_t d = i.back() - i[i.size() - 2];
        return (upper ? d >= k : d <= k) ? in(i) : 0.0;
      };
    }
    if (auto r = dyn_cast<RangeOp>(op)) {
      std::optional<double> start = scalarConstant(r.getStart());
      std::optional<double> delta = scalarConstant(r.getDelta());
      if (!start || !delta)
        return nullptr;
      double s = *start, d = *delta;
      return [=](ArrayRef<int64_t> i) -> std::optional<double> { return s + d * (double)i[0]; };
    }
    if (auto s = dyn_cast<SliceOp>(op))
      return slice(s);
    return nullptr;
  }

private:
  std::vector<std::shared_ptr<llvm::MemoryBuffer>> files;

  static int64_t linear(ArrayRef<int64_t> shape, ArrayRef<int64_t> index) {
    int64_t l = 0;
    for (auto [d, i] : llvm::zip(shape, index))
      l = l * d + i;
    return l;
  }
  static SmallVector<int64_t> delinearize(ArrayRef<int64_t> shape, int64_t l) {
    SmallVector<int64_t> index(shape.size());
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      index[d] = shape[d] ? l % shape[d] : 0;
      l = shape[d] ? l / shape[d] : 0;
    }
    return index;
  }

  /// An operand numpy-broadcast to the result: the result index mapped to
  /// the operand's (leading dims dropped, unit dims pinned to 0).
  Eval operand(Value v) {
    Eval e = build(v);
    if (!e)
      return nullptr;
    SmallVector<int64_t> shape(cast<RankedTensorType>(v.getType()).getShape());
    return [e, shape](ArrayRef<int64_t> index) {
      SmallVector<int64_t, 4> r;
      size_t lead = index.size() - shape.size();
      for (size_t d = 0; d < shape.size(); ++d)
        r.push_back(shape[d] == 1 ? 0 : index[lead + d]);
      return e(r);
    };
  }

  static std::optional<double> constantAt(ElementsAttr attr, int64_t l) {
    Type elt = attr.getElementType();
    if (isa<FloatType>(elt)) {
      auto values = attr.tryGetValues<APFloat>();
      return values ? std::optional<double>((*values)[l].convertToDouble()) : std::nullopt;
    }
    if (elt.isInteger(1)) {
      auto values = attr.tryGetValues<bool>();
      return values ? std::optional<double>((*values)[l] ? 1.0 : 0.0) : std::nullopt;
    }
    if (isa<IntegerType>(elt)) {
      auto values = attr.tryGetValues<APInt>();
      return values ? std::optional<double>((double)(*values)[l].getSExtValue()) : std::nullopt;
    }
    return std::nullopt;
  }

  /// Little-endian data of a weight, read through a file mapping.
  Eval weight(WeightOp w, SmallVector<int64_t> shape) {
    Type elt = cast<RankedTensorType>(w.getType()).getElementType();
    unsigned bytes = elementStorageBytes(elt);
    if (!bytes || !elt.isIntOrFloat())
      return nullptr;
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    auto mapped = llvm::MemoryBuffer::getFileSlice(w.getFile(), count * bytes, w.getOffset(),
                                                   /*IsVolatile=*/false);
    if (!mapped)
      return nullptr;
    std::shared_ptr<llvm::MemoryBuffer> file = std::move(*mapped);
    files.push_back(file);
    const char *base = file->getBufferStart();
    return [=](ArrayRef<int64_t> i) -> std::optional<double> {
      return decodeElement(elt, base + linear(shape, i) * bytes);
    };
  }

  /// f(x(i), y(i)), or null when either operand is not known there.
  template <typename F>
  static Eval both(Eval x, Eval y, F f) {
    if (!x || !y)
      return nullptr;
    return [=](ArrayRef<int64_t> i) -> std::optional<double> {
      std::optional<double> a = x(i), b = y(i);
      if (!a || !b)
        return std::nullopt;
      return f(*a, *b);
    };
  }

  Eval binary(BinaryOp op, bool isInt) {
    BinaryKind kind = op.getKind();
    switch (kind) {
    case BinaryKind::add:
    case BinaryKind::sub:
    case BinaryKind::mul:
    case BinaryKind::div:
    case BinaryKind::max:
    case BinaryKind::min:
    case BinaryKind::And:
    case BinaryKind::Or:
      break;
    default:
      return nullptr;
    }
    return both(operand(op.getLhs()), operand(op.getRhs()), [=](double a, double b) -> double {
      switch (kind) {
      case BinaryKind::add:
        return a + b;
      case BinaryKind::sub:
        return a - b;
      case BinaryKind::mul:
        return a * b;
      case BinaryKind::div:
        return isInt ? std::trunc(a / b) : a / b;
      case BinaryKind::max:
        return std::max(a, b);
      case BinaryKind::min:
        return std::min(a, b);
      case BinaryKind::And:
        return (a != 0 && b != 0) ? 1.0 : 0.0;
      default: // Or
        return (a != 0 || b != 0) ? 1.0 : 0.0;
      }
    });
  }

  Eval compare(CompareOp op) {
    CompareKind kind = op.getKind();
    return both(operand(op.getLhs()), operand(op.getRhs()), [=](double a, double b) -> double {
      switch (kind) {
      case CompareKind::eq:
        return a == b;
      case CompareKind::ne:
        return a != b;
      case CompareKind::lt:
        return a < b;
      case CompareKind::le:
        return a <= b;
      case CompareKind::gt:
        return a > b;
      case CompareKind::ge:
        return a >= b;
      }
      return 0.0;
    });
  }

  Eval slice(SliceOp op) {
    auto in = dyn_cast<RankedTensorType>(op.getInput().getType());
    SmallVector<int64_t> starts(op.getStarts()), steps(op.getSteps());
    Eval input = build(op.getInput());
    if (!input || !in || !in.hasStaticShape() || (int64_t)starts.size() != in.getRank() ||
        steps.size() != starts.size())
      return nullptr;
    for (size_t d = 0; d < starts.size(); ++d) {
      int64_t dim = in.getDimSize(d);
      if (starts[d] < 0)
        starts[d] += dim;
      starts[d] = steps[d] > 0 ? std::clamp<int64_t>(starts[d], 0, dim)
                               : std::clamp<int64_t>(starts[d], 0, dim - 1);
    }
    return [=](ArrayRef<int64_t> index) {
      SmallVector<int64_t, 4> source;
      for (size_t d = 0; d < index.size(); ++d)
        source.push_back(starts[d] + steps[d] * index[d]);
      return input(source);
    };
  }
};

} // namespace

bool isCausalMask(Value mask, int64_t sq, int64_t l) {
  auto type = dyn_cast<RankedTensorType>(mask.getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2 || l < sq ||
      !isa<FloatType>(type.getElementType()))
    return false;
  auto shape = type.getShape();
  int64_t rank = type.getRank();
  if (shape[rank - 2] != sq || shape[rank - 1] != l ||
      llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }))
    return false;
  PointEvaluator evaluator;
  Eval eval = evaluator.build(mask);
  if (!eval)
    return false;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < sq; ++i) {
    index[rank - 2] = i;
    for (int64_t j = 0; j < l; ++j) {
      index[rank - 1] = j;
      std::optional<double> x = eval(index);
      if (!x)
        return false;
      bool visible = j <= i + (l - sq);
      if (visible ? *x != 0.0 : !(*x <= -1e30))
        return false;
    }
  }
  return true;
}

bool isZeroTensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return false;
  PointEvaluator evaluator;
  Eval eval = evaluator.build(v);
  if (!eval)
    return false;
  auto shape = type.getShape();
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t n = 0; n < type.getNumElements(); ++n) {
    std::optional<double> x = eval(index);
    if (!x || *x != 0.0)
      return false;
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0 && ++index[d] == shape[d]; --d)
      index[d] = 0;
  }
  return true;
}

} // namespace kiln::fusion
