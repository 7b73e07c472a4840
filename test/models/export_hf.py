#!/usr/bin/env python3
"""Exports tiny random models built from Hugging Face `transformers`' own
modeling classes (not hand-written modules), the way a user would export
them, for Kiln's fusion and numerics tests and benchmarks.

Runs under the exporter venv (`.venv-exporter`: PyPI torch, onnxscript,
transformers; requirements-exporter.txt). Every model is exported by both
torch exporters: `dynamo` (torch.onnx.export(..., dynamo=True), torch.export
+ onnxscript, its default opset) and `ts` (dynamo=False, the TorchScript
exporter, opset 17).

Models (seed 0, float32, batch 1; the prompt has --seq tokens; the sizes
below are `--size test`, `--size bench` is wider and deeper):
- llama:     LlamaForCausalLM, GQA (4 query heads, 2 K/V heads), 2 layers.
- qwen3:     Qwen3ForCausalLM (RMS norms on q and k per head), GQA.
- phi3:      Phi3ForCausalLM: fused projections (one qkv_proj, one
             gate_up_proj, each split after its MatMul).
- mixtral:   MixtralForCausalLM, 8 experts top-2.
- qwen2_moe: Qwen2MoeForCausalLM, 8 experts top-4 not renormalized, a
             sigmoid-gated shared expert.
- deepseek_v3: DeepseekV3ForCausalLM: MLA (q/kv LoRA ranks, decoupled
             interleaved RoPE, QK head dim 24, V head dim 16), a dense first
             layer, then 8 routed experts (sigmoid, correction bias, 4
             groups with 2 eligible, top-2, scaling 2.5) and a shared expert.
- bert:      BertModel (an encoder, padding mask, GELU).
Variants: attention `sdpa` (transformers' default) and `eager`; for the MoE
models every experts implementation (`eager`: the loop over the experts a
batch hit, `batched_mm`: the stacked weights gathered at the routed experts).
Decode steps (`*_decode`): Llama and DeepSeek-V3 taking one new token after
--seq cached ones, the KV cache as inputs (past_key_i / past_value_i) and the
grown cache as outputs (present_key_i / present_value_i).

Prompt models take input_ids and attention_mask (all ones; BERT's last two
tokens are padding); causal LMs give logits, BERT last_hidden_state.

With --dynamic-axes the exports leave their lengths dynamic, as optimum
and onnxruntime-genai write them (TorchScript: batch, sequence,
total_sequence and past_sequence axes; torch.export: Dim.AUTO on the same
axes, which keeps what it can prove static), named `<name>_<exporter>_dyn`;
the manifest then records each named dim's size in the example (`dims`), for
`kiln compile --dim NAME=N`.

usage: export_hf.py OUTDIR [--only NAME ...] [--seq 32] [--exporter dynamo|ts]
                        [--size test|bench|decode] [--dynamic-axes] [--checkpoint]
Writes OUTDIR/<name>.onnx (and .onnx.data), OUTDIR/<name>.<input>.npy,
OUTDIR/<name>.torch.<output>.npy, and OUTDIR/manifest.json listing, per
model, its inputs, outputs, and how many attention and MoE layers it has
(what the fused-op counts must be).
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
import transformers  # noqa: E402
from transformers import DynamicCache  # noqa: E402

# Model sizes: `test` (what the lit tests compile and compare), `bench`
# (bench/hf_models.py: big enough that a run takes milliseconds) and
# `decode` (bench/decode.py: weights larger than the caches).
SIZES = {
    "test": dict(vocab=256, hidden=64, heads=4, kv_heads=2, head_dim=16, inter=128, layers=2,
                 experts=8, moe_inter=48, shared_inter=96, q_lora=48, kv_lora=32, rope_dim=8,
                 nope_dim=16, v_dim=16),
    "bench": dict(vocab=2048, hidden=512, heads=8, kv_heads=2, head_dim=64, inter=1408,
                  layers=4, experts=8, moe_inter=512, shared_inter=1024, q_lora=256,
                  kv_lora=128, rope_dim=32, nope_dim=64, v_dim=64),
    # issue 19's decode model: a 156M-parameter Llama whose weights do not
    # fit in cache (bench/decode.py)
    "decode": dict(vocab=32000, hidden=1024, heads=16, kv_heads=4, head_dim=64, inter=2816,
                   layers=8, experts=8, moe_inter=512, shared_inter=1024, q_lora=256,
                   kv_lora=128, rope_dim=32, nope_dim=64, v_dim=64),
}
S = SIZES["test"]


def llama_config(attn):
    return transformers.LlamaConfig(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["inter"],
        num_hidden_layers=S["layers"], num_attention_heads=S["heads"],
        num_key_value_heads=S["kv_heads"], max_position_embeddings=4096,
        attn_implementation=attn)


def qwen3_config(attn):
    return transformers.Qwen3Config(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["inter"],
        num_hidden_layers=S["layers"], num_attention_heads=S["heads"],
        num_key_value_heads=S["kv_heads"], head_dim=S["head_dim"],
        max_position_embeddings=4096, attn_implementation=attn)


def phi3_config(attn):
    """Fused projections: one qkv_proj and one gate_up_proj per layer."""
    return transformers.Phi3Config(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["inter"],
        num_hidden_layers=S["layers"], num_attention_heads=S["heads"],
        num_key_value_heads=S["kv_heads"], max_position_embeddings=4096,
        pad_token_id=0, attn_implementation=attn)


def mixtral_config(attn, experts):
    return transformers.MixtralConfig(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["moe_inter"],
        num_hidden_layers=S["layers"], num_attention_heads=S["heads"],
        num_key_value_heads=S["kv_heads"], num_local_experts=S["experts"],
        num_experts_per_tok=2, max_position_embeddings=4096, attn_implementation=attn,
        experts_implementation=experts)


def qwen2_moe_config(attn, experts):
    return transformers.Qwen2MoeConfig(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["inter"],
        moe_intermediate_size=S["moe_inter"], shared_expert_intermediate_size=S["shared_inter"],
        num_hidden_layers=S["layers"], num_attention_heads=S["heads"],
        num_key_value_heads=S["kv_heads"], num_experts=S["experts"], num_experts_per_tok=4,
        norm_topk_prob=False, max_position_embeddings=4096, attn_implementation=attn,
        experts_implementation=experts)


def deepseek_v3_config(attn, experts):
    return transformers.DeepseekV3Config(
        vocab_size=S["vocab"], hidden_size=S["hidden"], intermediate_size=S["inter"],
        moe_intermediate_size=S["moe_inter"], num_hidden_layers=S["layers"],
        num_attention_heads=S["heads"], num_key_value_heads=S["heads"], n_shared_experts=1,
        n_routed_experts=S["experts"], routed_scaling_factor=2.5, kv_lora_rank=S["kv_lora"],
        q_lora_rank=S["q_lora"], qk_rope_head_dim=S["rope_dim"], v_head_dim=S["v_dim"],
        qk_nope_head_dim=S["nope_dim"], n_group=4, topk_group=2, num_experts_per_tok=2,
        first_k_dense_replace=1, norm_topk_prob=True, max_position_embeddings=4096,
        rope_interleave=True, attn_implementation=attn, experts_implementation=experts)


def bert_config(attn):
    return transformers.BertConfig(
        vocab_size=S["vocab"], hidden_size=S["hidden"], num_hidden_layers=S["layers"],
        num_attention_heads=S["heads"], intermediate_size=4 * S["hidden"],
        max_position_embeddings=4096, attn_implementation=attn)


# name -> (model class, config builder, takes an experts implementation,
#          attention layers, MoE layers) for a model of `layers` layers
FAMILIES = {
    "llama": (transformers.LlamaForCausalLM, llama_config, False, lambda n: n, lambda n: 0),
    "qwen3": (transformers.Qwen3ForCausalLM, qwen3_config, False, lambda n: n, lambda n: 0),
    "phi3": (transformers.Phi3ForCausalLM, phi3_config, False, lambda n: n, lambda n: 0),
    "mixtral": (transformers.MixtralForCausalLM, mixtral_config, True, lambda n: n, lambda n: n),
    "qwen2_moe": (transformers.Qwen2MoeForCausalLM, qwen2_moe_config, True, lambda n: n,
                  lambda n: n),
    # The first layer is dense (first_k_dense_replace = 1).
    "deepseek_v3": (transformers.DeepseekV3ForCausalLM, deepseek_v3_config, True, lambda n: n,
                    lambda n: n - 1),
    "bert": (transformers.BertModel, bert_config, False, lambda n: n, lambda n: 0),
}
EXPERTS = ["eager", "batched_mm"]
ATTENTION = ["sdpa", "eager"]
DECODE = ["llama", "deepseek_v3"]


def randomize(model):
    """Random weights of a realistic scale (transformers' init leaves some
    tensors, e.g. DeepSeek's correction bias, at zero)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                # A router (mlp.gate) balanced like a trained one: small
                # logits, so every expert takes a share of the tokens.
                router = name.endswith("mlp.gate.weight")
                p.copy_(torch.randn(p.shape, generator=gen) * (0.3 if router else 1.0) /
                        p.shape[-1] ** 0.5)
            elif "norm" in name or "LayerNorm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if "e_score_correction_bias" in name:
                b.copy_(0.02 * torch.randn(b.shape, generator=gen))
    return model


class Prompt(torch.nn.Module):
    def __init__(self, model, encoder):
        super().__init__()
        self.model, self.encoder = model, encoder

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state if self.encoder else out.logits


class Decode(torch.nn.Module):
    """One decode step: the cache in as flat tensors, grown cache out."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, input_ids, attention_mask, *past):
        cache = DynamicCache(
            ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.layers)],
            config=self.model.config)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         past_key_values=cache, use_cache=True)
        flat = []
        for i in range(self.layers):
            layer = out.past_key_values.layers[i]
            flat += [layer.keys, layer.values]
        return (out.logits, *flat)


def variants(only, seq):
    """(name, family, attention, experts, decode) for every export."""
    for fam, (_, _, moe, _, _) in FAMILIES.items():
        for attn in ATTENTION:
            for experts in (EXPERTS if moe else [None]):
                name = f"{fam}_{attn}" + (f"_{experts}" if experts else "")
                yield name, fam, attn, experts, False
        if fam in DECODE:
            for attn in ATTENTION:
                yield f"{fam}_{attn}_decode", fam, attn, ("batched_mm" if moe else None), True


def build(fam, attn, experts):
    cls, make_config, moe, _, _ = FAMILIES[fam]
    config = make_config(attn, experts) if moe else make_config(attn)
    torch.manual_seed(0)
    return randomize(cls(config).eval())


def n_experts(model):
    c = model.config
    return getattr(c, "num_local_experts", None) or getattr(c, "num_experts", None) or c.n_routed_experts


def example(fam, model, seq, decode, seed=1):
    gen = torch.Generator().manual_seed(seed)
    if not decode:
        ids = torch.randint(0, S["vocab"], (1, seq), generator=gen)
        mask = torch.ones(1, seq, dtype=torch.int64)
        if fam == "bert":
            mask[:, -2:] = 0
        return {"input_ids": ids, "attention_mask": mask}, ["last_hidden_state" if fam == "bert" else "logits"]
    # The cache of a real prompt of `seq` tokens, then one new token.
    prompt = torch.randint(0, S["vocab"], (1, seq), generator=gen)
    with torch.no_grad():
        out = model(input_ids=prompt, use_cache=True)
    inputs = {"input_ids": torch.randint(0, S["vocab"], (1, 1), generator=gen),
              "attention_mask": torch.ones(1, seq + 1, dtype=torch.int64)}
    outputs = ["logits"]
    for i, layer in enumerate(out.past_key_values.layers):
        inputs[f"past_key_{i}"] = layer.keys.detach().clone()
        inputs[f"past_value_{i}"] = layer.values.detach().clone()
        outputs += [f"present_key_{i}", f"present_value_{i}"]
    return inputs, outputs


def experts_hit(model, inputs):
    """Which experts the example routes to, per MoE layer (the eager loop
    is traced for exactly these)."""
    hits = []

    def hook(module, args, out):
        idx = out[-1] if isinstance(out, tuple) else None
        if idx is not None and idx.dtype == torch.int64:
            hits.append(sorted(set(idx.flatten().tolist())))
    handles = [m.register_forward_hook(hook) for n, m in model.named_modules()
               if n.endswith("mlp.gate") and "shared" not in n]
    with torch.no_grad():
        model(**{k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask")})
    for h in handles:
        h.remove()
    return hits


def dynamic_axes(inputs, output_names, decode):
    """The length axes optimum writes, per input and output name."""
    axes = {"input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "total_sequence" if decode else "sequence"}}
    for name in inputs:
        if name.startswith("past_"):
            axes[name] = {0: "batch", 2: "past_sequence"}
    for name in output_names:
        axes[name] = ({0: "batch", 2: "total_sequence"} if name.startswith("present_")
                      else {0: "batch", 1: "sequence"})
    return axes


def named_dims(path):
    """dim_param -> size in the example, for every named input dim of the
    exported model (the names torch chose under Dim.AUTO included)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    stem = path[:-len(".onnx")]
    dims = {}
    for value in model.graph.input:
        shape = np.load(f"{stem}.{value.name}.npy", mmap_mode="r").shape
        for axis, d in enumerate(value.type.tensor_type.shape.dim):
            if d.dim_param:
                dims[d.dim_param] = int(shape[axis])
    return dims


def export(outdir, name, fam, attn, experts, decode, seq, exporter, dynamic=False,
           checkpoint=False):
    model = build(fam, attn, experts)
    inputs, output_names = example(fam, model, seq, decode)
    _, _, moe, _, _ = FAMILIES[fam]
    if moe and not decode:
        # The TorchScript exporter traces the eager expert loop for the
        # experts the example hits; a prompt that hits all of them gives a
        # graph valid for every prompt that does too.
        for seed in range(2, 200):
            hit = experts_hit(model, inputs)
            if all(len(h) == n_experts(model) for h in hit):
                break
            inputs, output_names = example(fam, model, seq, decode, seed)
        else:
            raise RuntimeError("no example prompt routes to every expert")
    wrapper = Decode(model) if decode else Prompt(model, fam == "bert")
    args = tuple(inputs.values())
    with torch.no_grad():
        ref = wrapper(*args)
    ref = ref if isinstance(ref, tuple) else (ref,)
    full = f"{name}_{exporter}" + ("_dyn" if dynamic else "")
    path = os.path.join(outdir, full + ".onnx")
    kw = dict(dynamo=True) if exporter == "dynamo" else dict(dynamo=False, opset_version=17)
    if dynamic and exporter == "ts":
        kw["dynamic_axes"] = dynamic_axes(inputs, output_names, decode)
    elif dynamic:
        axes = dynamic_axes(inputs, [], decode)
        specs = [{a: torch.export.Dim.AUTO for a in axes[k]} for k in inputs]
        # Decode's forward takes the cache as *past: one nested tuple.
        kw["dynamic_shapes"] = (*specs[:2], tuple(specs[2:])) if decode else tuple(specs)
    torch.onnx.export(wrapper, args, path, input_names=list(inputs), output_names=output_names,
                      **kw)
    for k, v in inputs.items():
        np.save(os.path.join(outdir, f"{full}.{k}.npy"), v.numpy())
    for k, v in zip(output_names, ref):
        np.save(os.path.join(outdir, f"{full}.torch.{k}.npy"), v.numpy())
    _, _, moe, attn_layers, moe_layers = FAMILIES[fam]
    entry = {"family": fam, "attention": attn, "experts": experts, "decode": decode,
             "exporter": exporter, "inputs": list(inputs), "outputs": output_names,
             "attention_layers": attn_layers(S["layers"]), "moe_layers": moe_layers(S["layers"])}
    if moe:
        entry["experts_hit"] = experts_hit(model, inputs)
    if dynamic:
        entry["dims"] = named_dims(path)
    if checkpoint:  # the same weights as a transformers checkpoint (safetensors)
        model.save_pretrained(os.path.join(outdir, full + ".hf"))
        entry["checkpoint"] = full + ".hf"
    return full, entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*", help="names or name prefixes to export")
    ap.add_argument("--seq", type=int, default=32)
    ap.add_argument("--exporter", choices=["dynamo", "ts"], action="append")
    ap.add_argument("--size", choices=list(SIZES), default="test")
    ap.add_argument("--dynamic-axes", action="store_true",
                    help="leave batch and lengths dynamic (names get _dyn)")
    ap.add_argument("--checkpoint", action="store_true",
                    help="also save each model with save_pretrained (<name>.hf/)")
    args = ap.parse_args()
    S.update(SIZES[args.size])
    os.makedirs(args.outdir, exist_ok=True)
    manifest_path = os.path.join(args.outdir, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    exporters = args.exporter or ["dynamo", "ts"]
    for name, fam, attn, experts, decode in variants(args.only, args.seq):
        if args.only and not any(name == o or name.startswith(o + "_") for o in args.only):
            continue
        for exporter in exporters:
            print(f"export {name} ({exporter})", file=sys.stderr, flush=True)
            try:
                full, entry = export(args.outdir, name, fam, attn, experts, decode, args.seq,
                                     exporter, args.dynamic_axes, args.checkpoint)
            except Exception as e:  # noqa: BLE001 -- recorded: the form does not export
                full = f"{name}_{exporter}" + ("_dyn" if args.dynamic_axes else "")
                reason = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
                entry = {"export_failed": f"{type(e).__name__}: {reason}"}
                print(f"  not exported: {entry['export_failed']}", file=sys.stderr, flush=True)
            manifest[full] = entry
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
