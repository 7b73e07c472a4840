//===- QuantCodes.h - block-quantized codes to f32 values ---------*- C++ -*-===//
//
// Shared by kiln.block_dequantize's reference lowering and the CPU target's
// quantized matmul kernel, so both read codes the same way.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_QUANTCODES_H
#define KILN_DIALECTS_KILN_IR_QUANTCODES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace kiln {

/// FP8 e4m3fn bytes, zero-extended to i32 (a scalar or a vector), as the f32
/// values they encode, with integer and float arithmetic only (no CPU has
/// FP8 conversions): the exponent and mantissa bits moved into an f32's
/// (<< 20) and the exponent bias corrected by a multiply by 2^120, which
/// also turns the f32 denormal an FP8 subnormal lands on into its value;
/// then the sign. The NaN code 0x7F reads as 480 (weights hold no NaN).
inline mlir::Value decodeE4M3(mlir::OpBuilder &b, mlir::Location loc, mlir::Value codes) {
  auto like = [&](mlir::Type elt) -> mlir::Type {
    if (auto v = mlir::dyn_cast<mlir::VectorType>(codes.getType()))
      return mlir::VectorType::get(v.getShape(), elt);
    return elt;
  };
  auto i32 = like(b.getI32Type()), f32 = like(b.getF32Type());
  auto constant = [&](mlir::Type t, mlir::TypedAttr scalar) -> mlir::Value {
    if (auto v = mlir::dyn_cast<mlir::VectorType>(t))
      return mlir::arith::ConstantOp::create(b, loc, v,
                                             mlir::DenseElementsAttr::get(v, scalar));
    return mlir::arith::ConstantOp::create(b, loc, t, scalar);
  };
  auto int32 = [&](int32_t v) { return constant(i32, b.getI32IntegerAttr(v)); };
  mlir::Value magnitude = mlir::arith::ShLIOp::create(
      b, loc, mlir::arith::AndIOp::create(b, loc, codes, int32(0x7F)), int32(20));
  mlir::Value scaled = mlir::arith::MulFOp::create(
      b, loc, mlir::arith::BitcastOp::create(b, loc, f32, magnitude),
      constant(f32, b.getF32FloatAttr(0x1p120f)));
  mlir::Value sign = mlir::arith::ShLIOp::create(
      b, loc, mlir::arith::AndIOp::create(b, loc, codes, int32(0x80)), int32(24));
  return mlir::arith::BitcastOp::create(
      b, loc, f32,
      mlir::arith::OrIOp::create(b, loc, mlir::arith::BitcastOp::create(b, loc, i32, scaled),
                                 sign));
}

/// The code of row `row` (an index) in `codes`, the zero-extended i32 byte
/// (scalar or vector) holding it, as an f32 value before zero point and
/// scale: 8-bit codes as they are, 4-bit codes the low nibble for an even
/// row and the high one for an odd row, FP8 decoded.
inline mlir::Value codeValue(mlir::OpBuilder &b, mlir::Location loc, mlir::Value codes,
                             mlir::Value row, int64_t bits, bool float8) {
  if (float8)
    return decodeE4M3(b, loc, codes);
  auto vector = mlir::dyn_cast<mlir::VectorType>(codes.getType());
  auto splat = [&](mlir::Value scalar) -> mlir::Value {
    if (!vector)
      return scalar;
    return mlir::vector::BroadcastOp::create(b, loc, vector, scalar);
  };
  auto i32 = b.getI32Type();
  if (bits == 4) {
    mlir::Value odd = mlir::arith::IndexCastOp::create(
        b, loc, i32,
        mlir::arith::AndIOp::create(b, loc, row, mlir::arith::ConstantIndexOp::create(b, loc, 1)));
    mlir::Value shift = mlir::arith::ShLIOp::create(
        b, loc, odd, mlir::arith::ConstantIntOp::create(b, loc, i32, 2));
    codes = mlir::arith::AndIOp::create(
        b, loc, mlir::arith::ShRUIOp::create(b, loc, codes, splat(shift)),
        splat(mlir::arith::ConstantIntOp::create(b, loc, i32, 15)));
  }
  mlir::Type f32 = vector ? mlir::Type(mlir::VectorType::get(vector.getShape(), b.getF32Type()))
                          : mlir::Type(b.getF32Type());
  return mlir::arith::UIToFPOp::create(b, loc, f32, codes);
}

} // namespace kiln

#endif // KILN_DIALECTS_KILN_IR_QUANTCODES_H
