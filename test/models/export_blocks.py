#!/usr/bin/env python3
"""Exports the transformer blocks the benchmarks and end-to-end tests use,
from torch (Debian's 1.13 or a current PyPI torch), with fixed shapes and
deterministic weights (seed 0):

- llama_block.onnx: Llama-style decoder block (RMSNorm, Q/K/V projections,
  rotate-half RoPE, causal softmax attention, output projection, residual,
  RMSNorm, SwiGLU MLP, residual); hidden 512, 8 heads of 64, seq 128, batch 1.
- llama_gqa_block.onnx: the same with 2 K/V heads shared by the 8 query
  heads (Llama's repeat_kv: Unsqueeze, Expand, Reshape); llama_gqa_tile_block
  and llama_gqa_interleave_block repeat them with Tile and with
  repeat_interleave instead.
- moe_block.onnx: Mixtral-style sparse MoE layer, dense-masked form (every
  expert computed and weighted by its routing weight, zero when not in the
  token's top-k); hidden 512, 8 SwiGLU experts of 1024, top-2, seq 128.
  `--moe-top-k 8` exports the same layer routed to all experts.
- moe_sparse_block.onnx: the same layer in Hugging Face's sparse form
  (one_hot mask, torch.where token lists -> NonZero, per-expert Gather,
  index_add_ -> ScatterElements + Add): data-dependent shapes that only
  compile raised.
- qwen_moe.onnx: Qwen-MoE's layer: softmax top-4 of 8 not renormalized,
  a shared expert of 1024 scaled by sigmoid(x · g).
- deepseek_moe.onnx: DeepSeek-V3's MoE layer, dense-masked: sigmoid router
  with a score-correction bias, group-limited top-2 (4 groups, 2 eligible),
  normalized weights times 2.5, 8 experts of 512 and a shared expert of
  1024.
- deepseek_sparse_moe.onnx: that layer with Hugging Face's DeepseekV3MoE
  sparse expert loop (torch.where token lists, index_add_).
- deepseek_block.onnx: a DeepSeek-V3-style decoder block: MLA (latent Q/KV
  projections with RMSNorm, decoupled RoPE, shared RoPE key, QK dim 48, V
  dim 32, causal) then the DeepSeek MoE layer.
- deepseek_naive_decode.onnx: that decode step written naively (K and V
  recomputed from the cached latent every step); Kiln absorbs it.
- deepseek_decode.onnx: the same block's decode step in DeepSeek-V3's
  absorbed form: W_UK folded into the query, W_UV into the output, scores
  as the sum of a latent and a RoPE product, the cache only the normalized
  latent and the shared RoPE key (inputs past_kv [1, P, 128], past_pe
  [1, P, 16]; outputs y, present_kv, present_pe); `--decode-new` tokens
  after `--seq` - that many cached.

usage: export_blocks.py OUTDIR [--opset 17] [--seq 128] [--moe-top-k 2]
Writes OUTDIR/<name>.onnx, OUTDIR/<name>.input.npy (a sample input) and
OUTDIR/<name>.torch.npy (torch's output for it, the numerics reference);
further inputs and outputs as OUTDIR/<name>.<input>.npy and
OUTDIR/<name>.torch.<output>.npy.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim) + 0.1 * torch.randn(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def register_rope_and_mask(module, seq, dim):
    """Buffers `cos`, `sin` [seq, dim] (rotate-half RoPE, base 10000) and the
    causal `mask` [seq, seq] (-inf above the diagonal)."""
    pos = torch.arange(seq, dtype=torch.float32)[:, None]
    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    ang = torch.cat([pos * inv, pos * inv], dim=-1)
    module.register_buffer("cos", ang.cos())
    module.register_buffer("sin", ang.sin())
    module.register_buffer("mask", torch.triu(torch.full((seq, seq), float("-inf")), 1))


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down(nn.functional.silu(self.gate(x)) * self.up(x))


def repeat_kv(x, n_rep, how="expand"):
    """Grouped-query expansion [b, kvh, s, d] -> [b, kvh * n_rep, s, d], head
    h reading K/V head h // n_rep, written as Llama does (expand), with
    Tensor.repeat (an ONNX Tile) or with torch.repeat_interleave."""
    b, kvh, s, d = x.shape
    if n_rep == 1:
        return x
    if how == "tile":
        return x[:, :, None].repeat(1, 1, n_rep, 1, 1).reshape(b, kvh * n_rep, s, d)
    if how == "interleave":
        return torch.repeat_interleave(x, n_rep, dim=1)
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


class LlamaBlock(nn.Module):
    def __init__(self, dim=512, heads=8, seq=128, mlp=1376, kv_heads=None, repeat="expand"):
        super().__init__()
        self.repeat = repeat
        self.heads, self.head_dim = heads, dim // heads
        self.kv_heads = kv_heads or heads
        self.norm1, self.norm2 = RMSNorm(dim), RMSNorm(dim)
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, self.kv_heads * self.head_dim, bias=False)
        self.v = nn.Linear(dim, self.kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.mlp = SwiGLU(dim, mlp)
        register_rope_and_mask(self, seq, self.head_dim)

    def forward(self, x):
        b, s, d = x.shape
        h = self.norm1(x)
        q = self.q(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(h).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(h).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        k = repeat_kv(k, self.heads // self.kv_heads, self.repeat)
        v = repeat_kv(v, self.heads // self.kv_heads, self.repeat)
        if self.repeat == "sdpa":  # Hugging Face's default attention (torch >= 2)
            attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = torch.matmul(q, k.transpose(-2, -1)) / (self.head_dim ** 0.5) + self.mask
            attn = torch.matmul(torch.softmax(scores, dim=-1), v)
        x = x + self.o(attn.transpose(1, 2).reshape(b, s, d))
        return x + self.mlp(self.norm2(x))


class DenseMaskedMoE(nn.Module):
    def __init__(self, dim=512, experts=8, hidden=1024, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.router = nn.Linear(dim, experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(dim, hidden) for _ in range(experts))

    def forward(self, x):
        logits = self.router(x)
        probs = torch.softmax(logits, dim=-1)
        weights, index = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            w = (weights * (index == e).to(x.dtype)).sum(dim=-1, keepdim=True)
            out = out + w * expert(x)
        return out


class QwenMoE(nn.Module):
    """Qwen-MoE's sparse MoE block written dense-masked: softmax top-4 of 8
    without renormalizing (norm_topk_prob = False), plus a shared expert
    scaled by its own sigmoid gate."""

    def __init__(self, dim=512, experts=8, hidden=512, top_k=4, shared_hidden=1024):
        super().__init__()
        self.top_k = top_k
        self.router = nn.Linear(dim, experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(dim, hidden) for _ in range(experts))
        self.shared = SwiGLU(dim, shared_hidden)
        self.shared_gate = nn.Linear(dim, 1, bias=False)

    def forward(self, x):
        b, s, d = x.shape
        h = x.view(-1, d)
        probs = torch.softmax(self.router(h), dim=1, dtype=torch.float)
        weights, index = torch.topk(probs, self.top_k, dim=-1)
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            w = (weights * (index == e).to(h.dtype)).sum(dim=-1, keepdim=True)
            out = out + w * expert(h)
        out = out + torch.sigmoid(self.shared_gate(h)) * self.shared(h)
        return out.reshape(b, s, d)


class SparseMoE(DenseMaskedMoE):
    """Mixtral's MoE as Hugging Face's MixtralSparseMoeBlock writes it: each
    expert runs on its own tokens only (torch.where over the one-hot expert
    mask), its output weighted and index_add_-ed back."""

    def forward(self, x):
        b, s, d = x.shape
        h = x.view(-1, d)
        probs = torch.softmax(self.router(h), dim=1, dtype=torch.float)
        weights, index = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros((b * s, d), dtype=h.dtype)
        mask = nn.functional.one_hot(index, num_classes=len(self.experts)).permute(2, 1, 0)
        for e, expert in enumerate(self.experts):
            slot, tokens = torch.where(mask[e])
            y = expert(h[None, tokens].reshape(-1, d)) * weights[tokens, slot, None]
            out.index_add_(0, tokens, y.to(h.dtype))
        return out.reshape(b, s, d)


# torch >= 2 exports through torch.export (dynamo=True); 1.x's TorchScript
# exporter writes opsets up to 17.
CURRENT_EXPORTER = int(torch.__version__.split(".")[0]) >= 2
TORCH_MAX_OPSET = 17


class DeepSeekMoE(nn.Module):
    """DeepSeek-V3's MoE layer written as a dense-masked expert loop: sigmoid
    scores, a score-correction bias for selection only, group-limited top-k
    (groups scored by their two best, the best topk_group groups eligible),
    weights from the unbiased scores, normalized, times the routed scaling
    factor, plus a shared expert."""

    def __init__(self, dim=512, experts=8, hidden=512, top_k=2, n_group=4, topk_group=2,
                 scaling=2.5, shared_hidden=1024):
        super().__init__()
        self.top_k, self.n_group, self.topk_group, self.scaling = top_k, n_group, topk_group, scaling
        self.router = nn.Linear(dim, experts, bias=False)
        self.register_buffer("correction_bias", 0.1 * torch.randn(experts))
        self.experts = nn.ModuleList(SwiGLU(dim, hidden) for _ in range(experts))
        self.shared = SwiGLU(dim, shared_hidden)

    def route(self, h):
        """The chosen experts [T, k] and their weights [T, k]."""
        experts = len(self.experts)
        scores = torch.sigmoid(self.router(h))
        choice = scores + self.correction_bias
        group_scores = choice.view(-1, self.n_group, experts // self.n_group).topk(
            2, dim=-1)[0].sum(dim=-1)
        group_idx = torch.topk(group_scores, k=self.topk_group, dim=-1)[1]
        group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
        score_mask = group_mask.unsqueeze(-1).expand(
            -1, self.n_group, experts // self.n_group).reshape(-1, experts)
        eligible = choice.masked_fill(~score_mask.bool(), float("-inf"))
        index = torch.topk(eligible, k=self.top_k, dim=-1)[1]
        weights = scores.gather(1, index)
        return index, weights / (weights.sum(dim=-1, keepdim=True) + 1e-20) * self.scaling

    def forward(self, x):
        b, s, d = x.shape
        h = x.reshape(-1, d)
        index, weights = self.route(h)
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            w = (weights * (index == e).to(h.dtype)).sum(dim=-1, keepdim=True)
            out = out + w * expert(h)
        return (out + self.shared(h)).reshape(b, s, d)


class DeepSeekSparseMoE(DeepSeekMoE):
    """The same layer with Hugging Face's DeepseekV3MoE expert loop: the
    one-hot mask permuted (2, 0, 1), torch.where giving (token, slot)
    pairs, weights topk_weights[token, slot], index_add_ back."""

    def forward(self, x):
        b, s, d = x.shape
        h = x.reshape(-1, d)
        index, weights = self.route(h)
        out = torch.zeros_like(h)
        mask = nn.functional.one_hot(index, num_classes=len(self.experts)).permute(2, 0, 1)
        for e, expert in enumerate(self.experts):
            tokens, slots = torch.where(mask[e])
            y = expert(h[tokens]) * weights[tokens, slots].unsqueeze(-1)
            out.index_add_(0, tokens, y)
        return (out + self.shared(h)).reshape(b, s, d)


class MLABlock(nn.Module):
    """A DeepSeek-V3-style decoder block: multi-head latent attention
    (latent Q and KV projections with RMSNorm, a decoupled RoPE part
    concatenated to the no-RoPE part, one RoPE key shared by all heads,
    QK head dim 48 != V head dim 32) in its prefill form, then DeepSeekMoE."""

    def __init__(self, dim=512, heads=8, seq=128, q_lora=192, kv_lora=128, nope=32, rope=16,
                 v_dim=32):
        super().__init__()
        self.heads, self.nope, self.rope, self.v_dim, self.kv_lora = heads, nope, rope, v_dim, kv_lora
        self.norm1, self.norm2 = RMSNorm(dim), RMSNorm(dim)
        self.q_a = nn.Linear(dim, q_lora, bias=False)
        self.q_norm = RMSNorm(q_lora)
        self.q_b = nn.Linear(q_lora, heads * (nope + rope), bias=False)
        self.kv_a = nn.Linear(dim, kv_lora + rope, bias=False)
        self.kv_norm = RMSNorm(kv_lora)
        self.kv_b = nn.Linear(kv_lora, heads * (nope + v_dim), bias=False)
        self.o = nn.Linear(heads * v_dim, dim, bias=False)
        self.moe = DeepSeekMoE(dim=dim)
        register_rope_and_mask(self, seq, rope)

    def forward(self, x):
        b, s, d = x.shape
        h = self.norm1(x)
        q = self.q_b(self.q_norm(self.q_a(h))).view(b, s, self.heads, self.nope + self.rope)
        q = q.transpose(1, 2)
        q_nope, q_pe = q[..., :self.nope], q[..., self.nope:]
        kv_a = self.kv_a(h)
        c_kv, k_pe = kv_a[..., :self.kv_lora], kv_a[..., self.kv_lora:]
        k_pe = k_pe.view(b, s, 1, self.rope).transpose(1, 2)
        kv = self.kv_b(self.kv_norm(c_kv)).view(b, s, self.heads, self.nope + self.v_dim)
        kv = kv.transpose(1, 2)
        k_nope, v = kv[..., :self.nope], kv[..., self.nope:]
        q_pe = q_pe * self.cos + rotate_half(q_pe) * self.sin
        k_pe = k_pe * self.cos + rotate_half(k_pe) * self.sin
        q = torch.cat([q_nope, q_pe], dim=-1)
        k = torch.cat([k_nope, k_pe.expand(b, self.heads, s, self.rope)], dim=-1)
        scale = (self.nope + self.rope) ** -0.5
        scores = torch.matmul(q, k.transpose(-2, -1)) * scale + self.mask
        attn = torch.matmul(torch.softmax(scores, dim=-1), v)
        x = x + self.o(attn.transpose(1, 2).reshape(b, s, self.heads * self.v_dim))
        return x + self.moe(self.norm2(x))


class MLADecode(MLABlock):
    """MLABlock's decode step as DeepSeek-V3's inference code writes it with
    attn_impl="absorb": the per-head W_UK of kv_b multiplies the no-RoPE
    query (into the latent space), the scores are that times the cached
    latent plus the RoPE query times the cached RoPE key, the probabilities
    times the latent are multiplied by the per-head W_UV. The cache holds
    only the normalized latent and the RoPE key, shared by all heads."""

    def __init__(self, past, new, **kw):
        super().__init__(seq=past + new, **kw)
        self.past = past
        mask = torch.full((new, past + new), float("-inf")).triu(past + 1)
        self.register_buffer("step_mask", mask)

    def new_step(self, x, past_kv, past_pe):
        """The new tokens' query (no-RoPE and RoPE parts, [B, H, S, .]) and
        the caches with their latent and RoPE key appended."""
        b, s, d = x.shape
        h = self.norm1(x)
        q = self.q_b(self.q_norm(self.q_a(h))).view(b, s, self.heads, self.nope + self.rope)
        q = q.transpose(1, 2)
        q_nope, q_pe = q[..., :self.nope], q[..., self.nope:]
        kv_a = self.kv_a(h)
        c_kv, k_pe = self.kv_norm(kv_a[..., :self.kv_lora]), kv_a[..., self.kv_lora:]
        cos, sin = self.cos[self.past:], self.sin[self.past:]
        q_pe = q_pe * cos + rotate_half(q_pe) * sin
        k_pe = k_pe * cos + rotate_half(k_pe) * sin
        return q_nope, q_pe, torch.cat([past_kv, c_kv], dim=1), torch.cat([past_pe, k_pe], dim=1)

    def finish(self, x, attn):
        """Output projection, residual, the MoE."""
        b, s, d = x.shape
        x = x + self.o(attn.transpose(1, 2).reshape(b, s, self.heads * self.v_dim))
        return x + self.moe(self.norm2(x))

    def forward(self, x, past_kv, past_pe):
        s = x.shape[1]
        q_nope, q_pe, kv_cache, pe_cache = self.new_step(x, past_kv, past_pe)
        w = self.kv_b.weight.view(self.heads, self.nope + self.v_dim, self.kv_lora)
        q_latent = torch.matmul(q_nope, w[:, :self.nope])
        latent = kv_cache.unsqueeze(1)
        scale = (self.nope + self.rope) ** -0.5
        scores = (torch.matmul(q_latent, latent.transpose(-2, -1)) +
                  torch.matmul(q_pe, pe_cache.unsqueeze(1).transpose(-2, -1))) * scale
        if s > 1:
            scores = scores + self.step_mask
        attn = torch.matmul(torch.softmax(scores, dim=-1), latent)
        attn = torch.matmul(attn, w[:, self.nope:].transpose(1, 2))
        return self.finish(x, attn), kv_cache, pe_cache


class MLANaiveDecode(MLADecode):
    """The same decode step with the same latent-only cache, written the
    naive way: every step recomputes all heads' keys and values from the
    cached latent (kv_b over the whole cache), then ordinary attention.
    Kiln absorbs kv_b into the query and the output (MlaAbsorb.cpp)."""

    def forward(self, x, past_kv, past_pe):
        b, s = x.shape[:2]
        q_nope, q_pe, kv_cache, pe_cache = self.new_step(x, past_kv, past_pe)
        t = kv_cache.shape[1]
        kv = self.kv_b(kv_cache).view(b, t, self.heads, self.nope + self.v_dim).transpose(1, 2)
        k_nope, v = kv[..., :self.nope], kv[..., self.nope:]
        k = torch.cat([k_nope, pe_cache.unsqueeze(1).expand(b, self.heads, t, self.rope)], -1)
        q = torch.cat([q_nope, q_pe], dim=-1)
        scale = (self.nope + self.rope) ** -0.5
        scores = torch.matmul(q, k.transpose(-2, -1)) * scale
        if s > 1:
            scores = scores + self.step_mask
        attn = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.finish(x, attn), kv_cache, pe_cache


DYNAMIC_AXES = False  # --dynamic-axes


def export(model, example, path, opset, inputs=None, outputs=("y",)):
    """Exports `model` to ONNX at `opset`. torch 2.x: its current exporter
    (torch.export + onnxscript's ATen translations, dynamo=True), what
    people run today. torch 1.x: the TorchScript exporter; above the newest
    opset it writes (1.13: 17), export at that and convert with onnx's
    version converter (18 moves ReduceMean/ReduceSum axes into inputs).
    With DYNAMIC_AXES, x's batch dim is left dynamic (what optimum and
    onnxruntime-genai write): the graph computes `view(b, s, h, d)` from
    x.shape at run time."""
    inputs = {"x": example, **(inputs or {})}
    model.eval()
    with torch.no_grad():
        if CURRENT_EXPORTER:
            dynamic = {"dynamic_shapes": {"x": {0: torch.export.Dim("batch")}}} \
                if DYNAMIC_AXES else {}
            program = torch.onnx.export(model, tuple(inputs.values()), dynamo=True,
                                        input_names=list(inputs), output_names=list(outputs),
                                        opset_version=opset, external_data=False, **dynamic)
            program.save(path)
        else:
            dynamic = {"dynamic_axes": {"x": {0: "batch"}, outputs[0]: {0: "batch"}}} \
                if DYNAMIC_AXES else {}
            torch.onnx.export(model, tuple(inputs.values()), path, input_names=list(inputs),
                              output_names=list(outputs),
                              opset_version=min(opset, TORCH_MAX_OPSET),
                              do_constant_folding=True, **dynamic)
    if not CURRENT_EXPORTER and opset > TORCH_MAX_OPSET:
        import onnx
        from onnx import version_converter
        converted = version_converter.convert_version(onnx.load(path), opset)
        converted.ir_version = min(converted.ir_version, 8)  # what onnxruntime reads
        onnx.save(converted, path)
    stem = path[:-len(".onnx")]
    for i, (name, value) in enumerate(inputs.items()):
        np.save(stem + (".input.npy" if i == 0 else f".{name}.npy"), value.numpy())
    with torch.no_grad():
        got = model(*inputs.values())
    for i, (name, value) in enumerate(zip(outputs, got if len(outputs) > 1 else (got,))):
        np.save(stem + (".torch.npy" if i == 0 else f".torch.{name}.npy"), value.numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--moe-top-k", type=int, default=2)
    ap.add_argument("--decode-new", type=int, default=1)
    ap.add_argument("--only", choices=["llama", "gqa", "moe", "qwen", "deepseek", "mla",
                                       "decode"])
    ap.add_argument("--dynamic-axes", action="store_true",
                    help="leave x's batch dim dynamic in the ONNX graph")
    args = ap.parse_args()
    global DYNAMIC_AXES
    DYNAMIC_AXES = args.dynamic_axes
    os.makedirs(args.outdir, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, args.seq, 512)
    if args.only in (None, "llama"):
        export(LlamaBlock(seq=args.seq), x, os.path.join(args.outdir, "llama_block.onnx"),
               args.opset)
    if args.only in (None, "gqa"):
        torch.manual_seed(2)
        export(LlamaBlock(seq=args.seq, kv_heads=2), x,
               os.path.join(args.outdir, "llama_gqa_block.onnx"), args.opset)
        # Hugging Face's default attention, scaled_dot_product_attention,
        # exists from torch 2.0: the current exporter writes its causal mask
        # in-graph (opset < 23) or the ONNX Attention op (opset 23).
        hows = ("tile", "interleave") + (("sdpa",) if CURRENT_EXPORTER else ())
        for how in hows:
            torch.manual_seed(2)
            export(LlamaBlock(seq=args.seq, kv_heads=2, repeat=how), x,
                   os.path.join(args.outdir, f"llama_gqa_{how}_block.onnx"), args.opset)
    if args.only in (None, "moe"):
        torch.manual_seed(1)
        name = "moe_block.onnx" if args.moe_top_k == 2 else f"moe_block_top{args.moe_top_k}.onnx"
        export(DenseMaskedMoE(top_k=args.moe_top_k), x, os.path.join(args.outdir, name),
               args.opset)
        torch.manual_seed(1)  # the same weights
        export(SparseMoE(top_k=args.moe_top_k), x,
               os.path.join(args.outdir, name.replace("moe_block", "moe_sparse_block")),
               args.opset)
    if args.only in (None, "qwen"):
        torch.manual_seed(6)
        export(QwenMoE(), x, os.path.join(args.outdir, "qwen_moe.onnx"), args.opset)
    if args.only in (None, "deepseek"):
        torch.manual_seed(3)
        export(DeepSeekMoE(), x, os.path.join(args.outdir, "deepseek_moe.onnx"), args.opset)
        torch.manual_seed(3)  # the same weights
        export(DeepSeekSparseMoE(), x, os.path.join(args.outdir, "deepseek_sparse_moe.onnx"),
               args.opset)
    if args.only in (None, "mla"):
        torch.manual_seed(4)
        export(MLABlock(seq=args.seq), x, os.path.join(args.outdir, "deepseek_block.onnx"),
               args.opset)
    if args.only in (None, "decode"):
        new, past = args.decode_new, args.seq - args.decode_new
        for name, cls in (("deepseek_decode", MLADecode), ("deepseek_naive_decode", MLANaiveDecode)):
            torch.manual_seed(4)  # MLABlock's weights
            g = torch.Generator().manual_seed(5)
            export(cls(past, new), torch.randn(1, new, 512, generator=g),
                   os.path.join(args.outdir, name + ".onnx"), args.opset,
                   inputs={"past_kv": torch.randn(1, past, 128, generator=g),
                           "past_pe": torch.randn(1, past, 16, generator=g)},
                   outputs=("y", "present_kv", "present_pe"))

if __name__ == "__main__":
    main()
