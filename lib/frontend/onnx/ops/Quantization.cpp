//===- Quantization.cpp - ONNX (De)QuantizeLinear as elementwise math ------===//
//
// Linear quantization is elementwise arithmetic plus rounding (half to even,
// kiln.unary round) and saturation, so it imports as kiln ops that later
// fuse with their neighbours. Per-axis scales are reshaped to broadcast
// along `axis`. Blocked quantization and float8 targets are not handled yet.
// onnxruntime's weight-only MatMulNBits keeps its codes: a product with
// kiln.block_dequantize.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"

#include <cmath>

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

/// A 1-D per-axis parameter reshaped so it lines up with dimension `axis`
/// of a rank-`rank` tensor; scalars (and [1]) are returned as they are.
Value lineUp(NodeImporter &n, Value param, int64_t rank, int64_t axis) {
  if (!param) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(param.getType());
  if (t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1))
    return param;
  SmallVector<int64_t> shape(rank - axis, 1);
  shape[0] = t.getDimSize(0);
  return n.reshape(param, shape);
}

/// lineUp at the node's `axis` attribute, after checking it and the rank.
FailureOr<Value> alongAxis(NodeImporter &n, Value param, RankedTensorType x) {
  auto t = cast<RankedTensorType>(param.getType());
  if (t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1))
    return param; // a per-tensor parameter: no axis involved
  if (t.getRank() > 1) {
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
  return lineUp(n, param, x.getRank(), axis);
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
  if (!x) // an earlier create of this node failed (and said why)
    return {};
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

//===--- integer matmul and convolution ------------------------------------===//

/// (v - zero_point) in `elt`, with the zero point lined up at `axis`.
Value centered(NodeImporter &n, Value v, Value zp, Type elt, int64_t axis) {
  Value c = n.castTo(v, elt);
  if (!zp)
    return c;
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  return n.create<BinaryOp>(BinaryKind::sub, c, lineUp(n, n.castTo(zp, elt), rank, axis));
}

/// (v - zero_point) * scale in f32.
Value dequantized(NodeImporter &n, Value v, Value scale, Value zp, int64_t axis) {
  Type f32 = n.b.getF32Type();
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  return n.create<BinaryOp>(BinaryKind::mul, centered(n, v, zp, f32, axis),
                            lineUp(n, n.castTo(scale, f32), rank, axis));
}

/// Output quantization to the zero point's type (uint8 when absent).
Value requantized(NodeImporter &n, Value y, Value scale, Value zp) {
  auto qType = zp ? cast<IntegerType>(cast<RankedTensorType>(zp.getType()).getElementType())
                  : IntegerType::get(n.b.getContext(), 8, IntegerType::Unsigned);
  Type f32 = n.b.getF32Type();
  return quantize(n, y, n.castTo(scale, f32), zp ? n.castTo(zp, f32) : Value(), qType);
}

LogicalResult requireInputs(NodeImporter &n, std::initializer_list<size_t> which) {
  for (size_t i : which)
    if (failed(n.required(i)))
      return failure();
  return success();
}

int64_t rowAxis(NodeImporter &n, size_t i) { return n.inputType(i).getRank() - 2; }

LogicalResult convertMatMulInteger(NodeImporter &n) {
  if (failed(requireInputs(n, {0, 1})))
    return failure();
  Type i32 = n.b.getI32Type();
  Value a = centered(n, n.input(0), n.input(2), i32, rowAxis(n, 0));
  Value b = centered(n, n.input(1), n.input(3), i32, n.inputType(1).getRank() - 1);
  n.setOutput(0, n.create<MatmulOp>(a, b));
  return success();
}

LogicalResult convertQLinearMatMul(NodeImporter &n) {
  if (failed(requireInputs(n, {0, 1, 3, 4, 6})))
    return failure();
  Value a = dequantized(n, n.input(0), n.input(1), n.input(2), rowAxis(n, 0));
  Value b = dequantized(n, n.input(3), n.input(4), n.input(5),
                        n.inputType(3).getRank() - 1);
  n.setOutput(0, requantized(n, n.create<MatmulOp>(a, b), n.input(6), n.input(7)));
  return success();
}

LogicalResult convertConvInteger(NodeImporter &n) {
  if (failed(requireInputs(n, {0, 1})))
    return failure();
  Type i32 = n.b.getI32Type();
  Value x = centered(n, n.input(0), n.input(2), i32, 1);
  Value w = centered(n, n.input(1), n.input(3), i32, 0);
  Value y = importConv(n, x, w, Value());
  if (!y)
    return failure();
  n.setOutput(0, y);
  return success();
}

LogicalResult convertQLinearConv(NodeImporter &n) {
  if (failed(requireInputs(n, {0, 1, 3, 4, 6})))
    return failure();
  Value x = dequantized(n, n.input(0), n.input(1), n.input(2), 1);
  Value w = dequantized(n, n.input(3), n.input(4), n.input(5), 0);
  Value bias;
  if (Value b = n.input(8)) { // int32, scaled by x_scale * w_scale
    Type f32 = n.b.getF32Type();
    Value scale = n.create<BinaryOp>(BinaryKind::mul, n.castTo(n.input(1), f32),
                                     n.castTo(n.input(4), f32));
    bias = n.create<BinaryOp>(BinaryKind::mul, n.castTo(b, f32), scale);
  }
  Value y = importConv(n, x, w, bias);
  if (!y)
    return failure();
  n.setOutput(0, requantized(n, y, n.input(6), n.input(7)));
  return success();
}

//===--- com.microsoft MatMulNBits: weight-only block quantization --------===//

/// `v` [R, C] turned to [C, R] (the K-major layout kiln.block_dequantize reads).
Value kMajor(NodeImporter &n, Value v) {
  return n.create<TransposeOp>(v, ArrayRef<int64_t>{1, 0});
}

/// onnxruntime's MatMulNBits (what its MatMulNBitsQuantizer, optimum and
/// onnxruntime-genai write): Y = A x dequantize(B)ᵀ (+ bias), B [N,
/// k_blocks, blob] uint8 with codes packed low nibble first along K,
/// scales [N * k_blocks], optional zero points (packed uint8 or float).
/// The codes stay codes: B is reread as i8 and turned K-major (a transpose
/// of a weight, gathered when the artifact is written), and the product
/// reads it through kiln.block_dequantize.
LogicalResult convertMatMulNBits(NodeImporter &n) {
  if (failed(requireInputs(n, {0, 1, 2})))
    return failure();
  int64_t k = n.attrInt("K", 0), cols = n.attrInt("N", 0), bits = n.attrInt("bits", 4),
          block = n.attrInt("block_size", 0);
  if (bits != 4 && bits != 8)
    return n.unsupported(std::to_string(bits) + "-bit codes (4 and 8 are handled)");
  if (k <= 0 || cols <= 0 || block < 2 || (block & (block - 1)))
    return n.error("needs positive K and N and a block_size that is a power of two >= 2");
  if (n.input(4))
    return n.unsupported("g_idx (act-order)");
  auto at = n.inputType(0), bt = n.inputType(1);
  int64_t blocks = (k + block - 1) / block, blob = block * bits / 8;
  if (!isa<FloatType>(at.getElementType()) || at.getRank() < 1 ||
      (!at.isDynamicDim(at.getRank() - 1) && at.getDimSize(at.getRank() - 1) != k))
    return n.error("A must be a float tensor whose last dim is K = " + std::to_string(k));
  if (!bt.hasStaticShape() || bt.getNumElements() != cols * blocks * blob ||
      !bt.getElementType().isInteger(8))
    return n.error("B must be uint8 [N, k_blocks, blob] = [" + std::to_string(cols) + ", " +
                   std::to_string(blocks) + ", " + std::to_string(blob) + "]");
  auto i8 = n.b.getI8Type();
  auto f32 = n.b.getF32Type();
  // The codes' bytes as i8: a weight is reread with the new type, anything
  // else cast (integer casts keep the low 8 bits).
  Value codes = n.input(1);
  if (auto w = codes.getDefiningOp<WeightOp>())
    codes = WeightOp::create(n.b, n.loc, RankedTensorType::get(bt.getShape(), i8),
                             w.getNameAttr(), w.getFileAttr(), w.getOffsetAttr());
  else
    codes = n.castTo(codes, i8);
  Value data = kMajor(n, n.reshape(codes, {cols, blocks * blob}));
  int64_t rows = (k * bits + 7) / 8; // a last block past K is padding
  if (rows < blocks * blob)
    data = n.slice(data, {0, 0}, {rows, cols}, {1, 1});
  if (!n.inputType(2).hasStaticShape() || n.inputType(2).getNumElements() != cols * blocks)
    return n.error("scales must hold N * k_blocks = " + std::to_string(cols * blocks) +
                   " values");
  Value scales = n.castTo(kMajor(n, n.reshape(*n.required(2), {cols, blocks})), f32);
  Value zeros;
  if (Value zp = n.input(3)) {
    auto zt = n.inputType(3);
    if (!zt.hasStaticShape())
      return n.error("zero_points must have a static shape");
    if (isa<FloatType>(zt.getElementType())) {
      if (zt.getNumElements() != cols * blocks)
        return n.error("float zero_points must hold N * k_blocks values");
      zeros = n.castTo(kMajor(n, n.reshape(zp, {cols, blocks})), f32);
    } else {
      // Packed like the codes: per column, ceil(k_blocks * bits / 8) bytes.
      int64_t perColumn = (blocks * bits + 7) / 8;
      if (zt.getNumElements() != cols * perColumn)
        return n.error("uint8 zero_points must hold N * ceil(k_blocks * bits / 8) = " +
                       std::to_string(cols * perColumn) + " bytes");
      Value z = n.castTo(n.reshape(zp, {cols, perColumn}), n.b.getI32Type());
      if (bits == 4) {
        // Low nibble: even block; high nibble: odd block.
        Value lo = n.create<BinaryOp>(BinaryKind::bitwise_and, z,
                                      n.splat(n.b.getI32Type(), 15.0));
        Value hi = n.create<BinaryOp>(BinaryKind::div, z, n.splat(n.b.getI32Type(), 16.0));
        Value both = n.create<ConcatOp>(ValueRange{n.reshape(lo, {cols, perColumn, 1}),
                                                   n.reshape(hi, {cols, perColumn, 1})},
                                        n.b.getI64IntegerAttr(2));
        z = n.reshape(both, {cols, 2 * perColumn});
        if (2 * perColumn != blocks)
          z = n.slice(z, {0, 0}, {cols, blocks}, {1, 1});
      }
      zeros = kMajor(n, n.castTo(z, f32));
    }
  }
  if (n.failed())
    return failure();
  auto op = n.createOp<BlockDequantizeOp>(RankedTensorType::get({k, cols}, f32), data, scales,
                                          zeros, n.b.getI64IntegerAttr(bits),
                                          n.b.getI64IntegerAttr(block));
  if (!op)
    return failure();
  Value a = n.castTo(n.input(0), f32);
  Value y = n.create<MatmulOp>(a, op.getResult());
  if (Value bias = n.input(5))
    y = n.create<BinaryOp>(BinaryKind::add, y, n.castTo(bias, f32));
  n.setOutput(0, n.castTo(y, at.getElementType()));
  return success();
}

} // namespace

void registerQuantizationOps(OpRegistry &r) {
  r.add("com.microsoft", "MatMulNBits", 1, convertMatMulNBits);
  r.add("MatMulInteger", 10, convertMatMulInteger);
  r.add("QLinearMatMul", 10, convertQLinearMatMul);
  r.add("ConvInteger", 10, convertConvInteger);
  r.add("QLinearConv", 10, convertQLinearConv);
  r.add("QuantizeLinear", 10, convertQuantizeLinear);
  r.add("DequantizeLinear", 10, convertDequantizeLinear);
  r.add("DynamicQuantizeLinear", 11, convertDynamicQuantizeLinear);
}

} // namespace kiln::onnx_frontend
