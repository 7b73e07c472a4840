//===- Transformer.cpp - ONNX opset-23 Attention and RotaryEmbedding -------===//
//
// These ops import straight to the fused kiln ops. ONNX allows 3-D
// [batch, seq, heads * head_dim] inputs; those are split into heads here so
// the kiln ops always see [batch, heads, seq, head_dim].
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"

#include <limits>

using namespace mlir;

namespace kiln::onnx_frontend {
constexpr int64_t kDyn = ShapedType::kDynamic;

FailureOr<Value> splitHeads(NodeImporter &n, Value x, int64_t heads,
                            StringRef what) {
  if (!x) // an earlier create of this node failed (and said why)
    return failure();
  auto t = cast<RankedTensorType>(x.getType());
  if (t.getRank() == 4)
    return x;
  if (t.getRank() != 3 || heads <= 0 || ShapedType::isDynamic(t.getDimSize(2)) ||
      t.getDimSize(2) % heads) {
    (void)n.error(what + " must be 4-D, or 3-D with a static hidden size "
                  "divisible by its num_heads attribute");
    return failure();
  }
  int64_t b = t.getDimSize(0), s = t.getDimSize(1);
  if (ShapedType::isDynamic(b) && ShapedType::isDynamic(s)) {
    (void)n.unsupported("3-D " + what + " with dynamic batch and sequence");
    return failure();
  }
  Value r = n.reshape(x, {b, s, heads, t.getDimSize(2) / heads});
  return n.create<TransposeOp>(r, ArrayRef<int64_t>{0, 2, 1, 3});
}

Value mergeHeads(NodeImporter &n, Value y) {
  y = n.create<TransposeOp>(y, ArrayRef<int64_t>{0, 2, 1, 3});
  if (!y) // an earlier create of this node failed (and said why)
    return {};
  auto yt = cast<RankedTensorType>(y.getType());
  int64_t hidden = ShapedType::isDynamic(yt.getDimSize(2)) || ShapedType::isDynamic(yt.getDimSize(3))
                       ? kDyn
                       : yt.getDimSize(2) * yt.getDimSize(3);
  return n.reshape(y, {yt.getDimSize(0), yt.getDimSize(1), hidden});
}

namespace {

LogicalResult convertAttention(NodeImporter &n) {
  FailureOr<Value> q = n.required(0), k = n.required(1), v = n.required(2);
  if (failed(q) || failed(k) || failed(v))
    return failure();
  if (n.hasOutput(3))
    return n.unsupported("the qk_matmul_output output");
  bool threeD = n.inputType(0).getRank() == 3;
  int64_t qHeads = n.attrInt("q_num_heads", 0), kvHeads = n.attrInt("kv_num_heads", 0);
  FailureOr<Value> qh = splitHeads(n, *q, qHeads, "Q");
  FailureOr<Value> kh = splitHeads(n, *k, kvHeads, "K");
  FailureOr<Value> vh = splitHeads(n, *v, kvHeads, "V");
  if (failed(qh) || failed(kh) || failed(vh) || n.failed())
    return failure();
  Value pastK = n.input(4), pastV = n.input(5);
  if ((bool)pastK != (bool)pastV)
    return n.error("past_key and past_value must be given together");
  auto qt = cast<RankedTensorType>(qh->getType()),
       kt = cast<RankedTensorType>(kh->getType());
  if (n.input(6))
    return n.unsupported("nonpad_kv_seqlen");
  if (n.attrInt("left_window_size", -1) >= 0 || n.attrInt("right_window_size", -1) >= 0)
    return n.unsupported("sliding-window attention (left/right_window_size)");
  FloatAttr scale = n.hasAttr("scale") ? n.b.getF32FloatAttr(n.attrFloat("scale", 1.0f))
                                       : FloatAttr();
  // ONNX aligns the causal frontier to the past length: without a cache a
  // query i sees keys j <= i (top left), where kiln.attention's causal is
  // bottom right (j <= i + L - Sq). They agree when Sq == L; otherwise the
  // top-left triangle becomes an explicit boolean mask.
  bool causal = n.attrInt("is_causal", 0) != 0;
  Value mask = n.input(3);
  int64_t sq = qt.getDimSize(2), skv = kt.getDimSize(2);
  if (causal && !pastK && sq != skv) {
    if (ShapedType::isDynamic(sq) || ShapedType::isDynamic(skv))
      return n.unsupported("causal attention with different dynamic query and key lengths");
    SmallVector<double> tril;
    for (int64_t i = 0; i < sq; ++i)
      for (int64_t j = 0; j < skv; ++j)
        tril.push_back(j <= i ? 1.0 : 0.0);
    Value keep = n.constant(RankedTensorType::get({sq, skv}, n.b.getI1Type()), tril);
    if (!mask) {
      mask = keep;
    } else if (cast<RankedTensorType>(mask.getType()).getElementType().isInteger(1)) {
      mask = n.create<BinaryOp>(BinaryKind::And, mask, keep);
    } else {
      Type elt = cast<RankedTensorType>(mask.getType()).getElementType();
      Value hidden = n.constant(RankedTensorType::get({}, elt),
                                {-std::numeric_limits<double>::infinity()});
      mask = n.create<WhereOp>(keep, mask, hidden);
    }
    causal = false;
  }
  // softcap: tanh-capped scores before the mask (Gemma 2).
  float softcap = n.attrFloat("softcap", 0.0f);
  if (softcap < 0.0f)
    return n.error("softcap must be 0 (none) or positive");
  auto op = AttentionOp::create(n.b, n.loc, *qh, *kh, *vh, mask, pastK, pastV,
                                causal, scale,
                                softcap > 0.0f ? n.b.getF32FloatAttr(softcap) : FloatAttr());
  if (failed(verify(op)))
    return failure();
  Value y = op.getOutput();
  if (threeD)
    y = mergeHeads(n, y);
  n.setOutput(0, y);
  if (pastK) {
    n.setOutput(1, op.getPresent()[0]);
    n.setOutput(2, op.getPresent()[1]);
  }
  return success();
}

} // namespace

Value fullRotary(NodeImporter &n, Value half, bool interleaved) {
  if (!half) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(half.getType());
  if (!interleaved)
    return n.create<ConcatOp>(ValueRange{half, half}, -1);
  SmallVector<int64_t> shape(t.getShape());
  shape.push_back(1);
  Value col = n.reshape(half, shape);
  shape.back() = 2;
  Value twice = n.create<ExpandOp>(RankedTensorType::get(shape, t.getElementType()),
                                   col, Value());
  shape.pop_back();
  shape.back() *= 2;
  return n.reshape(twice, shape);
}

namespace {

LogicalResult convertRotaryEmbedding(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), cosC = n.required(1), sinC = n.required(2);
  if (failed(x) || failed(cosC) || failed(sinC))
    return failure();
  auto xt = n.inputType(0);
  bool interleaved = n.attrInt("interleaved", 0);
  Value cos = *cosC, sin = *sinC;
  if (Value pos = n.input(3)) {
    cos = n.create<GatherOp>(cos, n.castTo(pos, n.b.getI64Type()), 0);
    sin = n.create<GatherOp>(sin, n.castTo(pos, n.b.getI64Type()), 0);
  }
  if (n.failed())
    return failure();
  auto ct = cast<RankedTensorType>(cos.getType()); // [B, S, R/2]
  if (ct.getRank() != 3 || !ct.hasStaticShape())
    return n.unsupported("cos/sin caches that are not static [batch, seq, rotary/2]");
  cos = fullRotary(n, cos, interleaved);
  sin = fullRotary(n, sin, interleaved);
  int64_t b = ct.getDimSize(0), s = ct.getDimSize(1), r = ct.getDimSize(2) * 2;
  if (xt.getRank() == 4) {
    // x: [B, H, S, D]; cos: [B, 1, S, R].
    cos = n.reshape(cos, {b, 1, s, r});
    sin = n.reshape(sin, {b, 1, s, r});
    n.setOutput(0, n.create<RopeOp>(*x, cos, sin, interleaved));
    return success();
  }
  int64_t heads = n.attrInt("num_heads", 0);
  if (xt.getRank() != 3 || heads <= 0 || !xt.hasStaticShape() ||
      xt.getDimSize(2) % heads)
    return n.error("3-D input needs num_heads dividing a static hidden size");
  // x: [B, S, H*D] -> [B, S, H, D]; cos: [B, S, 1, R].
  Value x4 = n.reshape(*x, {b, s, heads, xt.getDimSize(2) / heads});
  cos = n.reshape(cos, {b, s, 1, r});
  sin = n.reshape(sin, {b, s, 1, r});
  Value y = n.create<RopeOp>(x4, cos, sin, interleaved);
  n.setOutput(0, n.reshape(y, xt.getShape()));
  return success();
}

} // namespace

void registerTransformerOps(OpRegistry &r) {
  r.add("Attention", 23, convertAttention);
  r.add("RotaryEmbedding", 23, convertRotaryEmbedding);
}

} // namespace kiln::onnx_frontend
