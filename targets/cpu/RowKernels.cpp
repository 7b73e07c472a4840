//===- RowKernels.cpp - rms_norm and rope as one pass over rows ----------===//
//
// The CPU target's kernels for the row-wise fused ops (see Passes.td): each
// row is read once and written once by vector code, one workgroup per
// block of rows, instead of the decomposition's chain of dispatches with a
// buffer between each. Rewritten on tensors, before bufferization, like
// the attention kernel (TensorBuffers.h).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/TensorBuffers.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <numeric>

namespace kiln {
#define GEN_PASS_DEF_KILNCPUROWKERNELS
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// About this many elements per workgroup (the runtime's pool takes
/// workgroups in chunks; a row block this size amortizes the loop setup).
constexpr int64_t kElementsPerWorkgroup = 4096;

/// The largest power of two up to `limit` that divides `n`.
int64_t vectorWidthFor(int64_t n, int64_t limit) {
  int64_t w = 1;
  while (w * 2 <= limit && n % (w * 2) == 0)
    w *= 2;
  return w;
}

/// f32 whose rows (the last dim) have a static, non-zero width; the
/// leading dims may be dynamic (a model's batch and sequence).
bool isF32Rows(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() >= 1 && t.getElementType().isF32() && !t.isDynamicDim(t.getRank() - 1) &&
         t.getShape().back() > 0 && (!t.hasStaticShape() || t.getNumElements() > 0);
}

class RowEmitter {
public:
  RowEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) { return arith::MulIOp::create(b, loc, x, idx(c)); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  /// Dim `i` of a buffer: a constant when static, else read per run.
  Value dim(Value buf, int64_t i) {
    auto t = cast<MemRefType>(buf.getType());
    if (!t.isDynamicDim(i))
      return idx(t.getDimSize(i));
    return memref::DimOp::create(b, loc, buf, i);
  }
  /// The product of dims [0, n) of a buffer (a constant when static).
  Value leadingProduct(Value buf, int64_t n) {
    auto t = cast<MemRefType>(buf.getType());
    int64_t known = 1;
    Value p;
    for (int64_t i = 0; i < n; ++i) {
      if (!t.isDynamicDim(i))
        known *= t.getDimSize(i);
      else
        p = p ? mul(p, dim(buf, i)) : dim(buf, i);
    }
    return p ? (known == 1 ? p : mul(p, known)) : idx(known);
  }
  Value f32(float v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }

  /// `tensor`'s buffer as one flat row-major memref.
  Value flat(Value tensor) { return flatten(buffer(tensor)); }
  Value buffer(Value tensor) { return kiln::cpu::readOnlyBuffer(b, loc, tensor); }
  Value flatten(Value buf) {
    auto t = cast<MemRefType>(buf.getType());
    if (t.getRank() == 1)
      return buf;
    ReassociationIndices all;
    for (int64_t i = 0; i < t.getRank(); ++i)
      all.push_back(i);
    return memref::CollapseShapeOp::create(b, loc, buf, ArrayRef<ReassociationIndices>{all});
  }

  /// A fresh output buffer of `type` (its dynamic dims those of `like`,
  /// a buffer of the same shape) and its flat view.
  std::pair<Value, Value> output(RankedTensorType type, Value like) {
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (type.isDynamicDim(i))
        sizes.push_back(dim(like, i));
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), sizes,
        b.getI64IntegerAttr(64));
    return {out, flatten(out)};
  }

  /// for (row in rows, blocks of `perGroup` rows, one workgroup each)
  /// body(row). `rows` static (`staticRows`) or counted per run.
  void forEachRow(Value rows, int64_t staticRows, int64_t width, function_ref<void(Value)> body) {
    int64_t perGroup = std::max<int64_t>(kElementsPerWorkgroup / width, 1);
    if (!ShapedType::isDynamic(staticRows))
      perGroup = std::clamp<int64_t>(perGroup, 1, staticRows);
    Value groups = ShapedType::isDynamic(staticRows)
                       ? arith::DivUIOp::create(b, loc, add(rows, idx(perGroup - 1)), idx(perGroup))
                       : idx((staticRows + perGroup - 1) / perGroup);
    auto grid = scf::ParallelOp::create(b, loc, ValueRange{idx(0)}, ValueRange{groups},
                                        ValueRange{idx(1)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(grid.getBody());
    Value first = mul(grid.getInductionVars()[0], perGroup);
    Value last = arith::MinUIOp::create(
        b, loc, add(first, idx(perGroup)),
        ShapedType::isDynamic(staticRows) ? rows : idx(staticRows));
    scf::ForOp::create(b, loc, first, last, idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value row, ValueRange) {
                         body(row);
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// for (i = 0; i < n; i += w) body(i), with a loop-carried value.
  Value forEachVector(int64_t n, int64_t w, Value init, function_ref<Value(Value, Value)> body) {
    auto loop = scf::ForOp::create(
        b, loc, idx(0), idx(n), idx(w), init ? ValueRange{init} : ValueRange{},
        [&](OpBuilder &, Location, Value i, ValueRange carried) {
          Value next = body(i, init ? carried[0] : Value());
          scf::YieldOp::create(b, loc, next ? ValueRange{next} : ValueRange{});
        });
    return init ? loop.getResult(0) : Value();
  }

  Value load(VectorType vt, Value mem, Value at) {
    return vector::LoadOp::create(b, loc, vt, mem, ValueRange{at});
  }
  void store(Value v, Value mem, Value at) {
    vector::StoreOp::create(b, loc, v, mem, ValueRange{at});
  }

  OpBuilder &b;
  Location loc;
};

struct RowKernelsPass : kiln::impl::KilnCpuRowKernelsBase<RowKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t lanes = std::max<int64_t>(vectorBits / 32, 1);
    SmallVector<Operation *> work;
    getOperation().walk([&](Operation *op) {
      if (auto n = dyn_cast<kiln::RmsNormOp>(op); n && normSupported(n))
        work.push_back(op);
      if (auto r = dyn_cast<kiln::RopeOp>(op); r && ropeSupported(r))
        work.push_back(op);
    });
    for (Operation *op : work) {
      if (auto n = dyn_cast<kiln::RmsNormOp>(op))
        rewriteNorm(n, lanes);
      else
        rewriteRope(cast<kiln::RopeOp>(op), lanes);
    }
  }

  /// f32 with one weight value per normalized element (static); the
  /// leading dims may be dynamic.
  static bool normSupported(kiln::RmsNormOp op) {
    if (!isF32Rows(op.getInput()) || !isF32Rows(op.getWeight()) ||
        !cast<RankedTensorType>(op.getWeight().getType()).hasStaticShape())
      return false;
    auto x = cast<RankedTensorType>(op.getInput().getType());
    auto w = cast<RankedTensorType>(op.getWeight().getType());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += x.getRank();
    if (axis < 0 || axis >= x.getRank())
      return false;
    // One weight value per normalized element (not broadcast).
    return w.getShape() == x.getShape().drop_front(axis);
  }

  void rewriteNorm(kiln::RmsNormOp op, int64_t lanes) {
    OpBuilder b(op);
    RowEmitter e(b, op.getLoc());
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += type.getRank();
    int64_t width = 1;
    for (int64_t d : type.getShape().drop_front(axis))
      width *= d;
    int64_t rows = type.hasStaticShape() ? type.getNumElements() / width : ShapedType::kDynamic;
    int64_t w = vectorWidthFor(width, lanes);
    auto vt = VectorType::get({w}, b.getF32Type());
    Value xBuf = e.buffer(op.getInput());
    Value x = e.flatten(xBuf), weight = e.flat(op.getWeight());
    auto [out, flatOut] = e.output(type, xBuf);
    Value y = flatOut;
    float eps = op.getEpsilon().convertToFloat();
    e.forEachRow(e.leadingProduct(xBuf, axis), rows, width, [&](Value row) {
      Value base = e.mul(row, width);
      Value zero = vector::BroadcastOp::create(b, loc, vt, e.f32(0.0f));
      Value squares = e.forEachVector(width, w, zero, [&](Value i, Value acc) {
        Value v = e.load(vt, x, e.add(base, i));
        return vector::FMAOp::create(b, loc, v, v, acc).getResult();
      });
      Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, squares);
      Value mean = arith::DivFOp::create(b, loc, sum, e.f32((float)width));
      Value root = math::SqrtOp::create(b, loc, arith::AddFOp::create(b, loc, mean, e.f32(eps)));
      Value inv = arith::DivFOp::create(b, loc, e.f32(1.0f), root);
      Value invVec = vector::BroadcastOp::create(b, loc, vt, inv);
      e.forEachVector(width, w, Value(), [&](Value i, Value) {
        Value at = e.add(base, i);
        Value v = arith::MulFOp::create(b, loc, e.load(vt, x, at), invVec);
        e.store(arith::MulFOp::create(b, loc, v, e.load(vt, weight, i)), y, at);
        return Value();
      });
    });
    op.getResult().replaceAllUsesWith(kiln::cpu::resultTensor(b, loc, type, out));
    op->erase();
  }

  /// f32 rotate-half RoPE whose cos/sin broadcast over x's rows (a dynamic
  /// dim of cos is x's there: the op's verifier and the graph's symbols).
  static bool ropeSupported(kiln::RopeOp op) {
    if (op.getInterleaved() || !isF32Rows(op.getInput()) || !isF32Rows(op.getCos()) ||
        !isF32Rows(op.getSin()) || op.getCos().getType() != op.getSin().getType())
      return false;
    auto x = cast<RankedTensorType>(op.getInput().getType());
    auto c = cast<RankedTensorType>(op.getCos().getType());
    int64_t r = c.getShape().back();
    if (x.getRank() < 1 || r % 2 || r > x.getShape().back() ||
        c.getRank() - 1 > x.getRank() - 1)
      return false;
    // cos's leading dims, right-aligned with x's rows: 1 or equal.
    ArrayRef<int64_t> rowDims = x.getShape().drop_back(), cosDims = c.getShape().drop_back();
    for (size_t i = 0; i < cosDims.size(); ++i) {
      int64_t cd = cosDims[cosDims.size() - 1 - i], xd = rowDims[rowDims.size() - 1 - i];
      if (cd != 1 && cd != xd && !ShapedType::isDynamic(cd))
        return false;
    }
    return true;
  }

  void rewriteRope(kiln::RopeOp op, int64_t lanes) {
    OpBuilder b(op);
    RowEmitter e(b, op.getLoc());
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ct = cast<RankedTensorType>(op.getCos().getType());
    int64_t d = type.getShape().back(), r = ct.getShape().back(), half = r / 2;
    int64_t rows = type.hasStaticShape() ? type.getNumElements() / d : ShapedType::kDynamic;
    int64_t w = vectorWidthFor(half, lanes);
    auto vt = VectorType::get({w}, b.getF32Type());
    Value xBuf = e.buffer(op.getInput()), cosBuf = e.buffer(op.getCos());
    Value sinBuf = e.buffer(op.getSin());
    Value x = e.flatten(xBuf), cos = e.flatten(cosBuf), sin = e.flatten(sinBuf);
    auto [out, flatOut] = e.output(type, xBuf);
    Value y = flatOut;
    int64_t rowRank = type.getRank() - 1, cosRank = ct.getRank() - 1;
    // x's row dims and cos's (right-aligned), read before the grid.
    SmallVector<Value> xDims, cDims;
    for (int64_t i = 0; i < rowRank; ++i)
      xDims.push_back(e.dim(xBuf, i));
    for (int64_t i = 0; i < cosRank; ++i)
      cDims.push_back(e.dim(cosBuf, i));
    // A dynamic dim of cos and sin is read as x's: checked when the plan
    // runs (kiln-shape-checks' form, hoisted by the CPU target).
    for (int64_t i = 0; i < rowRank && i < cosRank; ++i)
      if (ct.isDynamicDim(cosRank - 1 - i))
        for (Value table : {cosBuf, sinBuf})
          cf::AssertOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                    e.dim(table, cosRank - 1 - i), xDims[rowRank - 1 - i]),
              kiln::describeNode(op) + " needs sizes {0} and {1} to be equal");
    e.forEachRow(e.leadingProduct(xBuf, rowRank), rows, d, [&](Value row) {
      // The cos/sin row: the row's index in x's row dims, broadcast dims
      // of cos read at 0.
      Value cosRow = e.idx(0), rest = row;
      Value cosStride = e.idx(1);
      for (int64_t i = 0; i < rowRank && i < cosRank; ++i) {
        Value xd = xDims[rowRank - 1 - i];
        Value at = arith::RemUIOp::create(b, loc, rest, xd);
        rest = arith::DivUIOp::create(b, loc, rest, xd);
        int64_t cd = ct.getDimSize(cosRank - 1 - i);
        if (cd != 1)
          cosRow = e.add(cosRow, e.mul(at, cosStride));
        cosStride = e.mul(cosStride, cDims[cosRank - 1 - i]);
      }
      Value xBase = e.mul(row, d), cBase = e.mul(cosRow, r);
      e.forEachVector(half, w, Value(), [&](Value i, Value) {
        Value lo = e.add(xBase, i), hi = e.add(lo, e.idx(half));
        Value cLo = e.add(cBase, i), cHi = e.add(cLo, e.idx(half));
        Value x1 = e.load(vt, x, lo), x2 = e.load(vt, x, hi);
        Value y1 = arith::SubFOp::create(
            b, loc, arith::MulFOp::create(b, loc, x1, e.load(vt, cos, cLo)),
            arith::MulFOp::create(b, loc, x2, e.load(vt, sin, cLo)));
        Value y2 = vector::FMAOp::create(
            b, loc, x1, e.load(vt, sin, cHi),
            arith::MulFOp::create(b, loc, x2, e.load(vt, cos, cHi)));
        e.store(y1, y, lo);
        e.store(y2, y, hi);
        return Value();
      });
      if (r < d) { // partial rotary: the rest passes through
        auto one = VectorType::get({1}, b.getF32Type());
        scf::ForOp::create(b, loc, e.idx(r), e.idx(d), e.idx(1), ValueRange{},
                           [&](OpBuilder &, Location, Value i, ValueRange) {
                             Value at = e.add(xBase, i);
                             e.store(e.load(one, x, at), y, at);
                             scf::YieldOp::create(b, loc);
                           });
      }
    });
    op.getResult().replaceAllUsesWith(kiln::cpu::resultTensor(b, loc, type, out));
    op->erase();
  }
};

} // namespace
