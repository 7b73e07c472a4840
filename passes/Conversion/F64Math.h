//===- F64Math.h - f64 scalar helpers for interpolation bodies -*- C++ -*-===//
//
// Internal to passes/Conversion: the scalar f64 arithmetic the Resize and
// GridSample bodies compute coordinates and weights with, and Keys' cubic
// convolution weights both use.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_CONVERSION_F64MATH_H
#define KILN_PASSES_CONVERSION_F64MATH_H

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <array>

namespace kiln::conversion {

/// Builds f64 scalar arithmetic at one insertion point.
class F64Math {
public:
  F64Math(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::Value f(double v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  mlir::Value add(mlir::Value p, mlir::Value q) { return mlir::arith::AddFOp::create(b, loc, p, q); }
  mlir::Value sub(mlir::Value p, mlir::Value q) { return mlir::arith::SubFOp::create(b, loc, p, q); }
  mlir::Value mul(mlir::Value p, mlir::Value q) { return mlir::arith::MulFOp::create(b, loc, p, q); }
  mlir::Value div(mlir::Value p, mlir::Value q) { return mlir::arith::DivFOp::create(b, loc, p, q); }
  mlir::Value select(mlir::Value c, mlir::Value p, mlir::Value q) {
    return mlir::arith::SelectOp::create(b, loc, c, p, q);
  }
  mlir::Value cmp(mlir::arith::CmpFPredicate pred, mlir::Value p, mlir::Value q) {
    return mlir::arith::CmpFOp::create(b, loc, pred, p, q);
  }

  /// Keys' cubic convolution weights of the taps at x0 - 1 .. x0 + 2 for
  /// the fraction r = x - x0 (the outer taps at distance t in (1, 2), the
  /// inner at t in [0, 1]).
  std::array<mlir::Value, 4> cubicWeights(mlir::Value r, double a) {
    auto outer = [&](mlir::Value t) { // ((a t - 5a) t + 8a) t - 4a
      return add(mul(add(mul(add(mul(f(a), t), f(-5 * a)), t), f(8 * a)), t), f(-4 * a));
    };
    auto inner = [&](mlir::Value t) { // ((a + 2) t - (a + 3)) t t + 1
      return add(mul(mul(add(mul(f(a + 2), t), f(-(a + 3))), t), t), f(1));
    };
    mlir::Value s = sub(f(1), r);
    return {outer(add(r, f(1))), inner(r), inner(s), outer(add(s, f(1)))};
  }

protected:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace kiln::conversion

#endif // KILN_PASSES_CONVERSION_F64MATH_H
