//===- Training.cpp - ai.onnx.preview.training ops as elementwise math ----===//
//
// The optimizer steps (Adagrad, Momentum, Adam) are short elementwise
// formulas and import as kiln ops. `Gradient` is reverse-mode
// differentiation of the already imported kiln IR from `y` back to `xs`,
// for the differentiable elementwise ops and matmul.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

constexpr llvm::StringLiteral kTraining = "ai.onnx.preview.training";

/// Elementwise helpers over one node.
struct Math {
  NodeImporter &n;
  Type ft;
  Value c(double v) { return n.splat(ft, v); }
  Value add(Value a, Value b) { return n.create<BinaryOp>(BinaryKind::add, a, b); }
  Value sub(Value a, Value b) { return n.create<BinaryOp>(BinaryKind::sub, a, b); }
  Value mul(Value a, Value b) { return n.create<BinaryOp>(BinaryKind::mul, a, b); }
  Value div(Value a, Value b) { return n.create<BinaryOp>(BinaryKind::div, a, b); }
  Value pow(Value a, Value b) { return n.create<BinaryOp>(BinaryKind::pow, a, b); }
  Value sqrt(Value a) { return n.create<UnaryOp>(UnaryKind::sqrt, a); }
  /// T > 0 ? a : b, for the i64 step count T.
  Value ifStarted(Value t, Value a, Value b) {
    Value started = n.create<CompareOp>(CompareKind::gt, t, n.splat(n.b.getI64Type(), 0));
    return n.create<WhereOp>(started, a, b);
  }
};

/// Splits the inputs after (R, T) into `groups` equal lists of tensors.
FailureOr<int64_t> tensorsPerGroup(NodeImporter &n, int64_t groups) {
  int64_t rest = (int64_t)n.numInputs() - 2;
  if (rest <= 0 || rest % groups)
    return n.error("expects R, T and " + std::to_string(groups) +
                   " equally long lists of tensors");
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (failed(n.required(i)))
      return failure();
  if (!isa<FloatType>(n.inputType(0).getElementType()))
    return n.error("R must be a floating-point scalar");
  return rest / groups;
}

LogicalResult convertAdagrad(NodeImporter &n) {
  FailureOr<int64_t> k = tensorsPerGroup(n, 3);
  if (failed(k))
    return failure();
  Math m{n, n.inputType(0).getElementType()};
  Value t = n.castTo(n.input(1), m.ft);
  Value r = m.div(n.input(0), m.add(m.c(1), m.mul(t, m.c(n.attrFloat("decay_factor", 0)))));
  for (int64_t i = 0; i < *k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *k + i), h = n.input(2 + 2 * *k + i);
    Value greg = m.add(m.mul(m.c(n.attrFloat("norm_coefficient", 0)), x), g);
    Value hNew = m.add(h, m.mul(greg, greg));
    Value hAdapt = m.add(m.sqrt(hNew), m.c(n.attrFloat("epsilon", 0)));
    n.setOutput(i, m.sub(x, m.div(m.mul(r, greg), hAdapt)));
    n.setOutput(*k + i, hNew);
  }
  return success();
}

LogicalResult convertMomentum(NodeImporter &n) {
  FailureOr<int64_t> k = tensorsPerGroup(n, 3);
  if (failed(k))
    return failure();
  std::string mode = n.attrString("mode", "standard");
  if (mode != "standard" && mode != "nesterov")
    return n.error("unknown mode '" + mode + "'");
  Math m{n, n.inputType(0).getElementType()};
  Value alpha = m.c(n.attrFloat("alpha", 0));
  Value beta = m.ifStarted(n.input(1), m.c(n.attrFloat("beta", 0)), m.c(1));
  for (int64_t i = 0; i < *k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *k + i), v = n.input(2 + 2 * *k + i);
    Value greg = m.add(m.mul(m.c(n.attrFloat("norm_coefficient", 0)), x), g);
    Value vNew = m.add(m.mul(alpha, v), m.mul(beta, greg));
    Value step = mode == "standard" ? vNew : m.add(greg, m.mul(alpha, vNew));
    n.setOutput(i, m.sub(x, m.mul(n.input(0), step)));
    n.setOutput(*k + i, vNew);
  }
  return success();
}

LogicalResult convertAdam(NodeImporter &n) {
  FailureOr<int64_t> k = tensorsPerGroup(n, 4);
  if (failed(k))
    return failure();
  Math m{n, n.inputType(0).getElementType()};
  double alpha = n.attrFloat("alpha", 0.9f), beta = n.attrFloat("beta", 0.999f);
  Value t = n.castTo(n.input(1), m.ft), r = n.input(0);
  // R * sqrt(1 - beta^T) / (1 - alpha^T) once training has started.
  Value rAdj = m.ifStarted(
      n.input(1),
      m.div(m.mul(r, m.sqrt(m.sub(m.c(1), m.pow(m.c(beta), t)))),
            m.sub(m.c(1), m.pow(m.c(alpha), t))),
      r);
  for (int64_t i = 0; i < *k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *k + i), v = n.input(2 + 2 * *k + i),
          h = n.input(2 + 3 * *k + i);
    Value greg = m.add(m.mul(m.c(n.attrFloat("norm_coefficient", 0)), x), g);
    Value vNew = m.add(m.mul(m.c(alpha), v), m.mul(m.c(1 - alpha), greg));
    Value hNew = m.add(m.mul(m.c(beta), h), m.mul(m.c(1 - beta), m.mul(greg, greg)));
    Value hSqrt = m.add(m.sqrt(hNew), m.c(n.attrFloat("epsilon", 1e-6f)));
    Value xNew = m.sub(x, m.div(m.mul(rAdj, vNew), hSqrt));
    n.setOutput(i, m.mul(m.c(1 - n.attrFloat("norm_coefficient_post", 0)), xNew));
    n.setOutput(*k + i, vNew);
    n.setOutput(2 * *k + i, hNew);
  }
  return success();
}

//===--- Gradient ----------------------------------------------------------===//

/// Sums `grad` down to `shape` (undoing broadcasting).
Value unbroadcast(NodeImporter &n, Value grad, RankedTensorType shape) {
  if (!grad) // an earlier create of this node failed (and said why)
    return {};
  auto gt = cast<RankedTensorType>(grad.getType());
  if (gt.getShape() == shape.getShape())
    return grad;
  SmallVector<int64_t> axes;
  int64_t lead = gt.getRank() - shape.getRank();
  for (int64_t i = 0; i < gt.getRank(); ++i)
    if (i < lead || (shape.getDimSize(i - lead) == 1 && gt.getDimSize(i) != 1))
      axes.push_back(i);
  Value summed = n.reduce(ReduceKind::sum, grad, axes, true);
  return n.reshape(summed, shape.getShape());
}

/// d(op)/d(operand i) * adjoint, or null when kiln cannot differentiate it.
Value operandGradient(NodeImporter &n, Operation *op, unsigned i, Value adj) {
  Math m{n, cast<RankedTensorType>(adj.getType()).getElementType()};
  if (auto bin = dyn_cast<BinaryOp>(op)) {
    Value a = bin.getLhs(), b = bin.getRhs();
    switch (bin.getKind()) {
    case BinaryKind::add:
      return adj;
    case BinaryKind::sub:
      return i == 0 ? adj : n.create<UnaryOp>(UnaryKind::neg, adj);
    case BinaryKind::mul:
      return m.mul(adj, i == 0 ? b : a);
    case BinaryKind::div:
      // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2
      return i == 0 ? m.div(adj, b)
                    : n.create<UnaryOp>(UnaryKind::neg,
                                        m.div(m.mul(adj, a), m.mul(b, b)));
    default:
      return {};
    }
  }
  if (auto un = dyn_cast<UnaryOp>(op)) {
    Value x = un.getInput();
    switch (un.getKind()) {
    case UnaryKind::neg:
      return n.create<UnaryOp>(UnaryKind::neg, adj);
    case UnaryKind::exp:
      return m.mul(adj, un.getResult());
    case UnaryKind::log:
      return m.div(adj, x);
    case UnaryKind::sqrt:
      return m.div(adj, m.mul(m.c(2), un.getResult()));
    case UnaryKind::tanh:
      return m.mul(adj, m.sub(m.c(1), m.mul(un.getResult(), un.getResult())));
    case UnaryKind::sigmoid:
      return m.mul(adj, m.mul(un.getResult(), m.sub(m.c(1), un.getResult())));
    default:
      return {};
    }
  }
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    auto swapLast = [&](Value v) {
      int64_t r = cast<RankedTensorType>(v.getType()).getRank();
      SmallVector<int64_t> perm;
      for (int64_t d = 0; d < r; ++d)
        perm.push_back(d);
      std::swap(perm[r - 1], perm[r - 2]);
      return n.create<TransposeOp>(v, perm);
    };
    auto at = cast<RankedTensorType>(mm.getLhs().getType()),
         bt = cast<RankedTensorType>(mm.getRhs().getType());
    if (at.getRank() < 2 || bt.getRank() < 2)
      return {};
    return i == 0 ? n.create<MatmulOp>(adj, swapLast(mm.getRhs()))
                  : n.create<MatmulOp>(swapLast(mm.getLhs()), adj);
  }
  return {};
}

LogicalResult convertGradient(NodeImporter &n) {
  auto xsAttr = n.attrStrings("xs");
  std::string yName = n.attrString("y", "");
  if (!xsAttr || yName.empty())
    return n.error("Gradient needs the xs and y attributes");
  if (n.hasAttr("zs"))
    return n.unsupported("the zs attribute (treated-as-constant inputs)");
  Value y = n.lookup(yName);
  if (!y)
    return n.error("y '" + yName + "' is not a value of this graph");
  SmallVector<Value> xs;
  for (const std::string &name : *xsAttr) {
    Value x = n.lookup(name);
    if (!x)
      return n.error("xs names '" + name + "', which is not a value of this graph");
    xs.push_back(x);
  }
  auto yt = cast<RankedTensorType>(y.getType());
  if (!isa<FloatType>(yt.getElementType()) || !yt.hasStaticShape())
    return n.unsupported("the gradient of a non-float or dynamically shaped y");

  // The ops between the xs and y, in program order.
  llvm::SetVector<Operation *> path;
  SmallVector<Value> work = {y};
  llvm::DenseSet<Value> isX(xs.begin(), xs.end());
  while (!work.empty()) {
    Value v = work.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (isX.contains(v) || !def || !path.insert(def))
      continue;
    for (Value operand : def->getOperands())
      work.push_back(operand);
  }
  SmallVector<Operation *> ops(path.begin(), path.end());
  llvm::sort(ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });

  llvm::DenseMap<Value, Value> adjoint;
  adjoint[y] = n.splat(yt.getElementType(), 1.0, yt.getShape());
  Math m{n, yt.getElementType()};
  for (Operation *op : llvm::reverse(ops)) {
    Value adj = adjoint.lookup(op->getResult(0));
    if (!adj || op->getNumResults() != 1)
      continue;
    for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
      auto ot = dyn_cast<RankedTensorType>(operand.getType());
      if (!ot || !isa<FloatType>(ot.getElementType()))
        continue;
      Value g = operandGradient(n, op, i, adj);
      if (!g) {
        if (n.failed())
          return failure();
        return n.unsupported("differentiating '" +
                             op->getName().getStringRef().str() + "'");
      }
      g = unbroadcast(n, g, ot);
      Value &slot = adjoint[operand];
      slot = slot ? m.add(slot, g) : g;
    }
  }
  for (auto [i, x] : llvm::enumerate(xs)) {
    Value g = adjoint.lookup(x);
    auto xt = cast<RankedTensorType>(x.getType());
    if (!g) // y does not depend on x
      g = n.splat(xt.getElementType(), 0.0, xt.getShape());
    n.setOutput(i, g);
  }
  return n.failed() ? failure() : success();
}

} // namespace

void registerTrainingOps(OpRegistry &r) {
  r.add(kTraining, "Adagrad", 1, convertAdagrad);
  r.add(kTraining, "Momentum", 1, convertMomentum);
  r.add(kTraining, "Adam", 1, convertAdam);
  r.add(kTraining, "Gradient", 1, convertGradient);
}

} // namespace kiln::onnx_frontend
