//===- Contrib.cpp - onnxruntime's com.microsoft transformer ops ----------===//
//
// The fused ops onnxruntime's transformer optimizer and its GenAI exporter
// write: Attention, MultiHeadAttention and GroupQueryAttention import
// straight to kiln.attention, MoE to kiln.moe. Semantics follow onnxruntime's CPU
// kernels (their operator schemas and the outputs of a session, which the
// tests compare against); the features Kiln does not implement (packed
// QKV/KV, shared KV buffers, beam search, smooth softmax) are
// reported by name.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"

#include <limits>

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {
constexpr StringLiteral kMs = "com.microsoft";

/// i64 [0, 1, ..., n-1] shaped `shape` (one axis of extent n).
Value iota(NodeImporter &n, int64_t count, ArrayRef<int64_t> shape) {
  SmallVector<double> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back((double)i);
  return n.constant(RankedTensorType::get(shape, n.b.getI64Type()), values);
}

/// An additive float mask from onnxruntime's key_padding_mask: 0 where a
/// key is kept, `filter` where it is padding. Shapes [B] (key lengths),
/// [B, L] or [B, S, L] (1 keeps); the result broadcasts to [B, H, S, L].
FailureOr<Value> keyPaddingMask(NodeImporter &n, Value mask, int64_t b, int64_t l,
                                Type elt, float filter) {
  auto mt = cast<RankedTensorType>(mask.getType());
  Value keep;
  if (mt.getRank() == 1 && mt.getDimSize(0) == b) {
    Value lengths = n.reshape(n.castTo(mask, n.b.getI64Type()), {b, 1});
    keep = n.create<CompareOp>(CompareKind::lt, iota(n, l, {1, l}), lengths);
    keep = n.reshape(keep, {b, 1, 1, l});
  } else if (mt.getRank() == 2 || mt.getRank() == 3) {
    Value zero = n.splat(mt.getElementType(), 0.0);
    keep = n.create<CompareOp>(CompareKind::ne, mask, zero);
    keep = n.reshape(keep, mt.getRank() == 2
                               ? SmallVector<int64_t>{mt.getDimSize(0), 1, 1, mt.getDimSize(1)}
                               : SmallVector<int64_t>{mt.getDimSize(0), 1, mt.getDimSize(1),
                                                      mt.getDimSize(2)});
  } else {
    (void)n.unsupported("key_padding_mask of this shape (packed [3 * batch + 2] "
                        "offsets, or not [batch], [batch, keys], [batch, seq, keys])");
    return failure();
  }
  if (!keep)
    return failure();
  return n.create<WhereOp>(keep, n.splat(elt, 0.0), n.splat(elt, filter));
}

Value addMasks(NodeImporter &n, Value a, Value b) {
  if (!a || !b)
    return a ? a : b;
  return n.create<BinaryOp>(BinaryKind::add, a, b);
}

/// The key padding mask (input `padding`, if given) plus the additive
/// attention_bias (input 5), for [B, H, S, L] scores of `qt` queries.
FailureOr<Value> paddingAndBias(NodeImporter &n, Value padding, RankedTensorType qt,
                                int64_t keys) {
  Value mask;
  if (padding) {
    if (!qt.hasStaticShape() || ShapedType::isDynamic(keys)) {
      (void)n.unsupported("a key padding mask with dynamic shapes");
      return failure();
    }
    FailureOr<Value> m = keyPaddingMask(n, padding, qt.getDimSize(0), keys, qt.getElementType(),
                                        n.attrFloat("mask_filter_value", -10000.0f));
    if (failed(m))
      return failure();
    mask = *m;
  }
  return addMasks(n, mask, n.input(5));
}

/// Q, K, V [B, S, N * D] (K and V may come split already) as
/// [B, N, S, D]; K and V have `kvHeads` heads.
struct Heads {
  Value q, k, v;
};
FailureOr<Heads> splitQkv(NodeImporter &n, Value q, Value k, Value v, int64_t heads,
                          int64_t kvHeads) {
  FailureOr<Value> qh = splitHeads(n, q, heads, "query");
  FailureOr<Value> kh = splitHeads(n, k, kvHeads, "key");
  FailureOr<Value> vh = splitHeads(n, v, kvHeads, "value");
  if (failed(qh) || failed(kh) || failed(vh) || n.failed())
    return failure();
  return Heads{*qh, *kh, *vh};
}

/// The past_key / past_value inputs `i` and `i + 1`: both or neither.
FailureOr<std::pair<Value, Value>> pastCache(NodeImporter &n, size_t i) {
  Value k = n.input(i), v = n.input(i + 1);
  if ((bool)k != (bool)v) {
    (void)n.error("past_key and past_value must be given together");
    return failure();
  }
  for (Value c : {k, v})
    if (c && cast<RankedTensorType>(c.getType()).getRank() != 4) {
      (void)n.error("past_key and past_value must be [batch, heads, past, head_dim]");
      return failure();
    }
  return std::pair(k, v);
}

/// Creates the attention op and sets output 0 ([B, S, H*Dv]); the caller
/// sets the present cache from the op's present results.
FailureOr<AttentionOp> emitAttention(NodeImporter &n, Value q, Value k, Value v, Value mask,
                                     Value pastK, Value pastV, bool causal) {
  if (n.failed())
    return failure();
  float scale = n.attrFloat("scale", 0.0f);
  float softcap = n.attrFloat("softcap", 0.0f); // GroupQueryAttention (Gemma 2)
  if (softcap < 0.0f)
    return n.error("softcap must be 0 (none) or positive");
  auto op = AttentionOp::create(n.b, n.loc, q, k, v, mask, pastK, pastV, causal,
                                scale != 0.0f ? n.b.getF32FloatAttr(scale) : FloatAttr(),
                                softcap > 0.0f ? n.b.getF32FloatAttr(softcap) : FloatAttr());
  if (failed(verify(op)))
    return failure();
  n.setOutput(0, mergeHeads(n, op.getOutput()));
  return op;
}

/// Outputs 1 and 2 as the op's present K and V.
LogicalResult setPresent(NodeImporter &n, FailureOr<AttentionOp> op) {
  if (failed(op))
    return failure();
  if (!op->getPresent().empty()) {
    n.setOutput(1, op->getPresent()[0]);
    n.setOutput(2, op->getPresent()[1]);
  }
  return success();
}

/// MultiHeadAttention: Q [B, S, D], K/V [B, L, D] (or [B, H, L, Dh]
/// already split), an optional input-projection bias [Dq + Dk + Dv], a key
/// padding mask (mask_filter_value added where 0), an additive attention
/// bias, a past K/V cache and `unidirectional` (causal, aligned to the
/// bottom right like kiln.attention).
LogicalResult convertMultiHeadAttention(NodeImporter &n) {
  FailureOr<Value> q = n.required(0);
  if (failed(q))
    return failure();
  int64_t heads = n.attrInt("num_heads", 0);
  if (heads <= 0)
    return n.error("num_heads must be positive");
  Value k = n.input(1), v = n.input(2);
  if (!k || !v)
    return n.unsupported("packed QKV (query without key and value)");
  if (n.inputType(0).getRank() != 3)
    return n.unsupported("packed QKV or a query that is not [batch, seq, hidden]");
  if (n.inputType(1).getRank() == 5)
    return n.unsupported("packed KV [batch, keys, heads, 2, head_size]");
  if (n.input(8) || n.input(9))
    return n.unsupported("past_sequence_length / cache_indirection (shared-buffer and "
                         "beam-search decoding)");
  if (n.hasOutput(3))
    return n.unsupported("the qk output");
  if (Value bias = n.input(3)) {
    auto bt = n.inputType(3);
    if (n.inputType(1).getRank() != 3 || n.inputType(2).getRank() != 3)
      return n.unsupported("a projection bias with 4-D (already split) key and value");
    int64_t dq = n.inputType(0).getDimSize(2), dk = n.inputType(1).getDimSize(2),
            dv = n.inputType(2).getDimSize(2);
    if (bt.getRank() != 1 || bt.getDimSize(0) != dq + dk + dv)
      return n.error("bias must be [" + Twine(dq + dk + dv) + "] (query + key + value hidden "
                     "sizes)");
    *q = n.create<BinaryOp>(BinaryKind::add, *q, n.slice(bias, {0}, {dq}, {1}));
    k = n.create<BinaryOp>(BinaryKind::add, k, n.slice(bias, {dq}, {dq + dk}, {1}));
    v = n.create<BinaryOp>(BinaryKind::add, v, n.slice(bias, {dq + dk}, {dq + dk + dv}, {1}));
  }
  FailureOr<Heads> hs = splitQkv(n, *q, k, v, heads, heads);
  FailureOr<std::pair<Value, Value>> past = pastCache(n, 6);
  if (failed(hs) || failed(past))
    return failure();
  auto [pastK, pastV] = *past;
  auto qt = cast<RankedTensorType>(hs->q.getType());
  auto kt = cast<RankedTensorType>(hs->k.getType());
  int64_t total = kt.getDimSize(2) + (pastK ? n.inputType(6).getDimSize(2) : 0);
  FailureOr<Value> mask = paddingAndBias(n, n.input(4), qt, total);
  if (failed(mask))
    return failure();
  return setPresent(n, emitAttention(n, hs->q, hs->k, hs->v, *mask, pastK, pastV,
                                     n.attrInt("unidirectional", 0) != 0));
}

/// Attention (onnxruntime's BERT / GPT-2 fusion): the Q, K, V projections
/// packed in one [Din, Dq + Dk + Dv] weight (+ bias) ahead of multi-head
/// attention; a mask_index of key lengths [B] or 0/1 [B, L] / [B, S, L];
/// a past/present cache packed as [2, B, H, L, Dh]; `unidirectional`.
LogicalResult convertMsAttention(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), w = n.required(1);
  if (failed(x) || failed(w))
    return failure();
  int64_t heads = n.attrInt("num_heads", 0);
  if (heads <= 0)
    return n.error("num_heads must be positive");
  if (n.attrInt("do_rotary", 0))
    return n.unsupported("do_rotary");
  if (n.attrInt("past_present_share_buffer", 0) || n.input(6))
    return n.unsupported("past_present_share_buffer / past_sequence_length");
  auto wt = n.inputType(1);
  if (n.inputType(0).getRank() != 3 || wt.getRank() != 2 || !wt.hasStaticShape())
    return n.error("input must be [batch, seq, hidden] and weights a static 2-D matrix");
  int64_t din = wt.getDimSize(0), total = wt.getDimSize(1);
  SmallVector<int64_t> sizes = {total / 3, total / 3, total / 3};
  if (std::optional<SmallVector<int64_t>> given = n.attrInts("qkv_hidden_sizes"))
    sizes = *given;
  if (sizes.size() != 3 || sizes[0] + sizes[1] + sizes[2] != total || sizes[0] != sizes[1])
    return n.error("qkv_hidden_sizes must be three sizes (Q and K equal) summing to the "
                   "weights' columns");
  // One projection per part: slices of the packed weight, which code
  // generation turns into weights of their own.
  Value bias = n.input(2);
  SmallVector<Value, 3> parts;
  for (int64_t i = 0, at = 0; i < 3; at += sizes[i++]) {
    Value y = n.create<MatmulOp>(*x, n.slice(*w, {0, at}, {din, at + sizes[i]}, {1, 1}));
    if (bias)
      y = n.create<BinaryOp>(BinaryKind::add, y, n.slice(bias, {at}, {at + sizes[i]}, {1}));
    parts.push_back(y);
  }
  FailureOr<Heads> hs = splitQkv(n, parts[0], parts[1], parts[2], heads, heads);
  if (failed(hs))
    return failure();
  auto qt = cast<RankedTensorType>(hs->q.getType());
  Value pastK, pastV;
  int64_t p = 0;
  if (Value past = n.input(4)) {
    auto pt = n.inputType(4);
    if (pt.getRank() != 5 || pt.getDimSize(0) != 2 || !pt.hasStaticShape())
      return n.error("past must be static [2, batch, heads, past, head_size]");
    ArrayRef<int64_t> d = pt.getShape();
    p = d[3];
    pastK = n.reshape(n.slice(past, {0, 0, 0, 0, 0}, {1, d[1], d[2], d[3], d[4]}, {1, 1, 1, 1, 1}),
                      {d[1], d[2], d[3], d[4]});
    pastV = n.reshape(n.slice(past, {1, 0, 0, 0, 0}, {2, d[1], d[2], d[3], d[4]}, {1, 1, 1, 1, 1}),
                      {d[1], d[2], d[3], d[4]});
  }
  if (Value index = n.input(3)) {
    auto mt = n.inputType(3);
    if (mt.getRank() == 1 && mt.getDimSize(0) != qt.getDimSize(0))
      return n.unsupported("mask_index of left-padding [2 * batch] or packed [3 * batch + 2] "
                           "positions");
    if (mt.getRank() == 4)
      return n.unsupported("mask_index of [batch, 1, max_seq, max_seq]");
  }
  FailureOr<Value> mask = paddingAndBias(n, n.input(3), qt, p + qt.getDimSize(2));
  if (failed(mask))
    return failure();
  FailureOr<AttentionOp> op = emitAttention(n, hs->q, hs->k, hs->v, *mask, pastK, pastV,
                                            n.attrInt("unidirectional", 0) != 0);
  if (failed(op))
    return failure();
  if (n.hasOutput(1)) {
    // present: K and V (the op's, after the past) stacked as [2, B, H, L, Dh].
    SmallVector<Value, 2> halves;
    for (Value h : pastK ? SmallVector<Value, 2>(op->getPresent())
                         : SmallVector<Value, 2>{hs->k, hs->v}) {
      auto t = cast<RankedTensorType>(h.getType());
      SmallVector<int64_t> shape = {1};
      shape.append(t.getShape().begin(), t.getShape().end());
      halves.push_back(n.reshape(h, shape));
    }
    n.setOutput(1, n.create<ConcatOp>(halves, 0));
  }
  return success();
}

/// GroupQueryAttention (onnxruntime's CPU semantics, separate past and
/// present buffers): Q [B, S, N*Dh], K/V [B, S, Nkv*Dh] (or Q, K and V
/// packed in the query), past [B, Nkv, P, Dh]; `seqlens_k[b]` is batch b's
/// total length - 1, so its valid past is `past_b = seqlens_k[b] + 1 - S`
/// entries. The present holds each batch's valid past, then its new keys
/// (so right-padded batches stay contiguous); query i sees keys
/// j <= past_b + i. A first prompt (no past) sees j <= i and j <= seqlens_k.
/// Optional rotary embedding of Q and K at positions past_b + i (or
/// position_ids) from the cos/sin caches.
LogicalResult convertGroupQueryAttention(NodeImporter &n) {
  FailureOr<Value> query = n.required(0), seqlens = n.required(5);
  if (failed(query) || failed(seqlens))
    return failure();
  int64_t heads = n.attrInt("num_heads", 0), kvHeads = n.attrInt("kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads)
    return n.error("num_heads and kv_num_heads must be positive, num_heads a multiple of "
                   "kv_num_heads");
  // Sliding window (Mistral, Gemma): query position p sees keys
  // [p - window, p] (onnxruntime's CPU kernel: window + 1 keys).
  int64_t window = n.attrInt("local_window_size", -1);
  if (window < -1)
    return n.error("local_window_size must be -1 (off) or a key count");
  if (n.attrInt("smooth_softmax", 0) || n.input(11))
    return n.unsupported("smooth_softmax / head_sink");
  if (n.hasOutput(3) || n.attrInt("qk_output", 0))
    return n.unsupported("the output_qk output");
  auto qt = n.inputType(0);
  if (qt.getRank() != 3 || !qt.hasStaticShape())
    return n.unsupported("a query that is not static [batch, seq, hidden]");
  int64_t b = qt.getDimSize(0), s = qt.getDimSize(1);
  Value q = *query, k = n.input(1), v = n.input(2);
  if (!k || !v) {
    // Packed: [B, S, (N + 2 Nkv) * Dh].
    int64_t dh = qt.getDimSize(2) / (heads + 2 * kvHeads);
    if (dh * (heads + 2 * kvHeads) != qt.getDimSize(2))
      return n.error("packed QKV width is not (num_heads + 2 * kv_num_heads) * head_size");
    int64_t dq = heads * dh, dkv = kvHeads * dh;
    q = n.slice(*query, {0, 0, 0}, {b, s, dq}, {1, 1, 1});
    k = n.slice(*query, {0, 0, dq}, {b, s, dq + dkv}, {1, 1, 1});
    v = n.slice(*query, {0, 0, dq + dkv}, {b, s, dq + 2 * dkv}, {1, 1, 1});
  }
  FailureOr<Heads> hs = splitQkv(n, q, k, v, heads, kvHeads);
  FailureOr<std::pair<Value, Value>> past = pastCache(n, 3);
  if (failed(hs) || failed(past))
    return failure();
  auto [pastK, pastV] = *past;
  Value qh = hs->q, kh = hs->k, vh = hs->v;
  int64_t p = pastK ? n.inputType(3).getDimSize(2) : 0;
  if (ShapedType::isDynamic(p))
    return n.unsupported("a past cache of dynamic length");
  int64_t l = p + s;
  // past_b = seqlens_k[b] + 1 - S, as [B, 1, 1, 1] i64.
  Value seq = n.reshape(n.castTo(*seqlens, n.b.getI64Type()), {b, 1, 1, 1});
  Value pastLen = n.create<BinaryOp>(BinaryKind::add, seq,
                                     n.splat(n.b.getI64Type(), (double)(1 - s)));
  Type elt = qt.getElementType();
  if (n.attrInt("do_rotary", 0)) {
    FailureOr<Value> cosC = n.required(7), sinC = n.required(8);
    if (failed(cosC) || failed(sinC))
      return failure();
    // Positions [B, S]: position_ids, else past_b + i (i for a prompt).
    Value pos = n.input(9) ? n.castTo(n.input(9), n.b.getI64Type())
                           : n.create<BinaryOp>(BinaryKind::add,
                                                pastK ? n.reshape(pastLen, {b, 1})
                                                      : n.splat(n.b.getI64Type(), 0.0),
                                                iota(n, s, {1, s}));
    if (!pos)
      return failure();
    bool interleaved = n.attrInt("rotary_interleaved", 0);
    Value cos = fullRotary(n, n.create<GatherOp>(*cosC, pos, 0), interleaved);
    Value sin = fullRotary(n, n.create<GatherOp>(*sinC, pos, 0), interleaved);
    if (n.failed())
      return failure();
    int64_t r = cast<RankedTensorType>(cos.getType()).getDimSize(2);
    cos = n.reshape(cos, {b, 1, s, r});
    sin = n.reshape(sin, {b, 1, s, r});
    qh = n.create<RopeOp>(qh, cos, sin, interleaved);
    kh = n.create<RopeOp>(kh, cos, sin, interleaved);
  }
  // Key j is visible to query i (rows [B, 1, S, L]).
  Value i = iota(n, s, {1, 1, s, 1}), j = iota(n, l, {1, 1, 1, l});
  Value keep;
  Value key = kh, value = vh;
  if (!pastK) {
    Value seqlen = seq;
    keep = n.create<BinaryOp>(BinaryKind::And, n.create<CompareOp>(CompareKind::le, j, i),
                              n.create<CompareOp>(CompareKind::le, j, seqlen));
  } else {
    // The present: batch b's first past_b cached entries, then its S new
    // ones, gathered from Concat(past, new) (index j, or P + j - past_b).
    Value joinedK = n.create<ConcatOp>(ValueRange{pastK, kh}, 2);
    Value joinedV = n.create<ConcatOp>(ValueRange{pastV, vh}, 2);
    Value jj = iota(n, l, {1, 1, l, 1});
    Value pb = n.reshape(pastLen, {b, 1, 1, 1});
    Value fromNew = n.create<BinaryOp>(
        BinaryKind::min,
        n.create<BinaryOp>(BinaryKind::add, n.create<BinaryOp>(BinaryKind::sub, jj, pb),
                           n.splat(n.b.getI64Type(), (double)p)),
        n.splat(n.b.getI64Type(), (double)(l - 1)));
    Value index = n.create<WhereOp>(n.create<CompareOp>(CompareKind::lt, jj, pb), jj, fromNew);
    if (n.failed())
      return failure();
    auto gathered = [&](Value joined) -> Value {
      auto t = cast<RankedTensorType>(joined.getType());
      auto it = RankedTensorType::get(t.getShape(), n.b.getI64Type());
      Value full = n.create<ExpandOp>(it, index, Value());
      return n.create<GatherElementsOp>(joined, full, 2);
    };
    key = gathered(joinedK);
    value = gathered(joinedV);
    keep = n.create<CompareOp>(CompareKind::le, j,
                               n.create<BinaryOp>(BinaryKind::add, i, pastLen));
  }
  if (window >= 0) {
    Value pos = pastK ? n.create<BinaryOp>(BinaryKind::add, i, pastLen) : i;
    Value first = n.create<BinaryOp>(BinaryKind::sub, pos,
                                     n.splat(n.b.getI64Type(), (double)window));
    keep = n.create<BinaryOp>(BinaryKind::And, keep, n.create<CompareOp>(CompareKind::ge, j, first));
  }
  if (n.failed())
    return failure();
  // A boolean mask keeps; with an attention bias both become one additive
  // float mask.
  Value mask = keep;
  if (Value bias = n.input(10))
    mask = addMasks(n,
                    n.create<WhereOp>(keep, n.splat(elt, 0.0),
                                      n.splat(elt, -std::numeric_limits<float>::infinity())),
                    bias);
  if (failed(emitAttention(n, qh, key, value, mask, Value(), Value(), /*causal=*/false)))
    return failure();
  n.setOutput(1, key); // the gathered present, or the new keys of a prompt
  n.setOutput(2, value);
  return success();
}

/// MoE: router_probs = MatMul(input, W) (the router, whose weight kiln.moe
/// takes), softmax then top-k (renormalized with
/// normalize_routing_weights), experts act(x·G) * (x·U) then ·D with
/// onnxruntime's [E, out, in] weight layout: a fused SwiGLU fc1 (gate and
/// up interleaved row by row, swiglu_fusion = 1, or concatenated, = 2) or
/// separate fc1 (gate) and fc3 (up), fc2 the down projection.
LogicalResult convertMoe(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), probs = n.required(1), fc1 = n.required(2),
                   fc2 = n.required(4);
  if (failed(x) || failed(probs) || failed(fc1) || failed(fc2))
    return failure();
  if (n.input(3) || n.input(5) || n.input(7))
    return n.unsupported("expert biases (fc1/fc2/fc3_experts_bias)");
  if (n.attrInt("use_sparse_mixer", 0))
    return n.unsupported("use_sparse_mixer");
  std::string act = n.attrString("activation_type", "relu");
  int64_t fusion = n.attrInt("swiglu_fusion", 0);
  Value fc3 = n.input(6);
  if (n.attrFloat("activation_alpha", 1.0f) != 1.0f ||
      n.attrFloat("activation_beta", 0.0f) != 0.0f || n.hasAttr("swiglu_limit"))
    return n.unsupported("SwiGLU with activation_alpha != 1, activation_beta != 0 or a "
                         "swiglu_limit (GPT-OSS's clamped form)");
  Activation activation = Activation::silu;
  if (act == "gelu")
    activation = Activation::gelu;
  else if (act == "relu")
    activation = Activation::relu;
  else if (act != "silu" && act != "swiglu")
    return n.unsupported("activation_type '" + act + "'");
  bool fused = act == "swiglu" && fusion != 0;
  if (!fused && !fc3)
    return n.unsupported("experts without a gate (activation_type '" + act +
                         "' and no fc3_experts_weights)");
  // Router weight [H, E].
  Value logits = *probs;
  while (auto r = logits.getDefiningOp<ReshapeOp>())
    logits = r.getInput();
  auto router = logits.getDefiningOp<MatmulOp>();
  auto xt = n.inputType(0);
  if (xt.getRank() == 0)
    return n.error("input must be [tokens, hidden] or [batch, seq, hidden]");
  int64_t hidden = xt.getDimSize(xt.getRank() - 1);
  Value routerW = router ? router.getRhs() : Value();
  auto rt = routerW ? dyn_cast<RankedTensorType>(routerW.getType()) : RankedTensorType();
  Value routed = router ? router.getLhs() : Value();
  while (routed && routed != *x && routed.getDefiningOp<ReshapeOp>())
    routed = routed.getDefiningOp<ReshapeOp>().getInput();
  if (!router || routed != *x || !rt || rt.getRank() != 2 || rt.getDimSize(0) != hidden)
    return n.unsupported("router_probs that are not MatMul(input, router weight [hidden, "
                         "experts])");
  auto w1 = n.inputType(2);
  if (w1.getRank() != 3 || !w1.hasStaticShape() || w1.getDimSize(2) != hidden)
    return n.error("fc1_experts_weights must be static [experts, inter, hidden]");
  int64_t e = w1.getDimSize(0), rows = w1.getDimSize(1);
  if (fused && rows % 2)
    return n.error("a fused SwiGLU fc1 needs an even number of rows (gate and up)");
  int64_t inter = fused ? rows / 2 : rows;
  // [E, out, in] -> [E, in, out].
  auto flip = [&](Value w) { return n.create<TransposeOp>(w, ArrayRef<int64_t>{0, 2, 1}); };
  Value gate, up;
  if (fused && fusion == 1) {
    gate = n.slice(*fc1, {0, 0, 0}, {e, rows, hidden}, {1, 2, 1});
    up = n.slice(*fc1, {0, 1, 0}, {e, rows, hidden}, {1, 2, 1});
  } else if (fused) {
    gate = n.slice(*fc1, {0, 0, 0}, {e, inter, hidden}, {1, 1, 1});
    up = n.slice(*fc1, {0, inter, 0}, {e, rows, hidden}, {1, 1, 1});
  } else {
    gate = *fc1;
    up = fc3;
  }
  if (n.failed())
    return failure();
  auto op = n.createOp<MoeOp>(
      *x, routerW, flip(gate), flip(up), flip(*fc2), Value(), Value(), Value(), Value(), Value(),
      n.b.getI64IntegerAttr(n.attrInt("k", 1)),
      ScoreFuncAttr::get(n.b.getContext(), ScoreFunc::softmax),
      n.attrInt("normalize_routing_weights", 0) ? n.b.getUnitAttr() : UnitAttr(),
      n.b.getI64IntegerAttr(1), n.b.getI64IntegerAttr(1), n.b.getF32FloatAttr(1.0f),
      ActivationAttr::get(n.b.getContext(), activation));
  if (!op)
    return failure();
  n.setOutput(0, op.getResult());
  return success();
}

} // namespace

void registerContribOps(OpRegistry &r) {
  r.add(kMs, "Attention", 1, convertMsAttention);
  r.add(kMs, "MultiHeadAttention", 1, convertMultiHeadAttention);
  r.add(kMs, "GroupQueryAttention", 1, convertGroupQueryAttention);
  r.add(kMs, "MoE", 1, convertMoe);
}

} // namespace kiln::onnx_frontend
