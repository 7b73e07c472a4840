//===- Quantization.cpp - ONNX (De)QuantizeLinear as elementwise math ------===//
//
// Linear quantization is elementwise arithmetic plus rounding (half to even,
// kiln.unary round) and saturation, so it imports as kiln ops that later
// fuse with their neighbours. Per-axis scales are reshaped to broadcast
// along `axis`. Blocked quantization and float8 targets are not handled yet.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"

#include <cmath>

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

/// A 1-D per-axis parameter reshaped to broadcast against `x` at `axis`;
/// scalars (and [1]) are returned as they are.
FailureOr<Value> alongAxis(NodeImporter &n, Value param, RankedTensorType x) {
  auto t = cast<RankedTensorType>(param.getType());
  if (t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1))
    return param;
  if (t.getRank() != 1) {
    (void)n.unsupported("blocked quantization (scale of rank " +
                        std::to_string(t.getRank()) + ")");
    return failure();
  }
  int64_t axis = n.attrInt("axis", 1);
  if (axis < 0)
    axis += x.getRank();
  if (axis < 0 || axis >= x.getRank()) {
    (void)n.error("axis is out of range");
    return failure();
  }
  SmallVector<int64_t> shape(x.getRank() - axis, 1);
  shape[0] = t.getDimSize(0);
  return n.reshape(param, shape);
}

/// Integer range of a quantized type, for saturation.
std::pair<double, double> rangeOf(IntegerType t) {
  unsigned w = t.getWidth();
  if (t.isUnsigned())
    return {0.0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

/// saturate(round(x / scale) + zero_point), cast to the quantized type.
Value quantize(NodeImporter &n, Value x, Value scale, Value zeroPoint,
               IntegerType qType) {
  Type ft = cast<RankedTensorType>(x.getType()).getElementType();
  Value q = n.create<UnaryOp>(UnaryKind::round,
                              n.create<BinaryOp>(BinaryKind::div, x, scale));
  if (zeroPoint)
    q = n.create<BinaryOp>(BinaryKind::add, q, n.castTo(zeroPoint, ft));
  auto [lo, hi] = rangeOf(qType);
  q = n.create<BinaryOp>(BinaryKind::max, q, n.splat(ft, lo));
  q = n.create<BinaryOp>(BinaryKind::min, q, n.splat(ft, hi));
  return n.castTo(q, qType);
}

LogicalResult convertQuantizeLinear(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1);
  if (failed(x) || failed(scale))
    return failure();
  if (n.attrInt("block_size", 0))
    return n.unsupported("blocked quantization");
  auto xt = n.inputType(0);
  Value zp = n.input(2);
  Type qType = zp ? n.inputType(2).getElementType()
                  : IntegerType::get(n.b.getContext(), 8, IntegerType::Unsigned);
  if (n.hasAttr("output_dtype") && !zp) {
    qType = convertElementType(n.b.getContext(), (int32_t)n.attrInt("output_dtype", 2));
  }
  auto it = dyn_cast_or_null<IntegerType>(qType);
  if (!it)
    return n.unsupported("quantizing to a non-integer type");
  Value s = n.castTo(*scale, xt.getElementType());
  FailureOr<Value> sAxis = alongAxis(n, s, xt);
  FailureOr<Value> zAxis = zp ? alongAxis(n, zp, xt) : FailureOr<Value>(Value());
  if (failed(sAxis) || failed(zAxis))
    return failure();
  n.setOutput(0, quantize(n, *x, *sAxis, *zAxis, it));
  return success();
}

LogicalResult convertDequantizeLinear(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1);
  if (failed(x) || failed(scale))
    return failure();
  if (n.attrInt("block_size", 0))
    return n.unsupported("blocked quantization");
  auto xt = n.inputType(0);
  if (!isa<IntegerType>(xt.getElementType()))
    return n.unsupported("dequantizing a non-integer type");
  Type ft = n.inputType(1).getElementType();
  FailureOr<Value> sAxis = alongAxis(n, *scale, xt);
  if (failed(sAxis))
    return failure();
  Value y = n.castTo(*x, ft);
  if (Value zp = n.input(2)) {
    FailureOr<Value> zAxis = alongAxis(n, n.castTo(zp, ft), xt);
    if (failed(zAxis))
      return failure();
    y = n.create<BinaryOp>(BinaryKind::sub, y, *zAxis);
  }
  n.setOutput(0, n.create<BinaryOp>(BinaryKind::mul, y, *sAxis));
  return success();
}

/// uint8 quantization with scale and zero point computed from the data.
LogicalResult convertDynamicQuantizeLinear(NodeImporter &n) {
  FailureOr<Value> xOr = n.required(0);
  if (failed(xOr))
    return failure();
  Value x = *xOr;
  auto xt = n.inputType(0);
  Type ft = xt.getElementType();
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    all.push_back(i);
  Value zero = n.splat(ft, 0.0);
  // The range always includes 0: [min(0, min x), max(0, max x)].
  Value lo = n.create<BinaryOp>(BinaryKind::min, n.reduce(ReduceKind::min, x, all, false), zero);
  Value hi = n.create<BinaryOp>(BinaryKind::max, n.reduce(ReduceKind::max, x, all, false), zero);
  Value scale = n.create<BinaryOp>(BinaryKind::div,
                                   n.create<BinaryOp>(BinaryKind::sub, hi, lo),
                                   n.splat(ft, 255.0));
  auto u8 = IntegerType::get(n.b.getContext(), 8, IntegerType::Unsigned);
  Value zp = quantize(n, n.create<UnaryOp>(UnaryKind::neg, lo), scale, Value(), u8);
  n.setOutput(0, quantize(n, x, scale, zp, u8));
  n.setOutput(1, scale);
  n.setOutput(2, zp);
  return success();
}

} // namespace

void registerQuantizationOps(OpRegistry &r) {
  r.add("QuantizeLinear", 10, convertQuantizeLinear);
  r.add("DequantizeLinear", 10, convertDequantizeLinear);
  r.add("DynamicQuantizeLinear", 11, convertDynamicQuantizeLinear);
}

} // namespace kiln::onnx_frontend
