#!/usr/bin/env python3
"""Writes a transformers LlamaForCausalLM checkpoint (config.json and
model.safetensors, as test/models/export_hf.py --checkpoint saves it) as a
llama.cpp GGUF at f32, f16, Q8_0 or Q4_0, for bench/decode.py's
side-by-side decode step. Runs in .venv-llamacpp (bench/requirements-
llamacpp.txt: gguf, numpy).

The layout follows llama.cpp's own converter for Llama: tensor names
token_embd / blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,ffn_norm,
ffn_gate,ffn_up,ffn_down} / output_norm / output, Q and K rows permuted
from transformers' rotate-half RoPE to llama.cpp's pairs, norms kept f32,
and, as the random checkpoint has no tokenizer, a placeholder SentencePiece
vocabulary of the config's size (decode timing does not read text).

usage: hf_to_gguf.py CHECKPOINT_DIR OUT.gguf --type f32|f16|q8_0|q4_0
"""
import argparse
import json
import os
import struct

import numpy as np
import gguf

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}


def read_safetensors(path):
    """name -> float32 array (bf16 widened), reading the format directly."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            start, end = meta["data_offsets"]
            f.seek(base + start)
            raw = f.read(end - start)
            if meta["dtype"] == "BF16":
                a = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                a = np.frombuffer(raw, DTYPES[meta["dtype"]])
            out[name] = a.reshape(meta["shape"]).astype(np.float32)
    return out


def permute(w, heads):
    """transformers' rotate-half Q/K rows to llama.cpp's interleaved pairs."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--type", choices=["f32", "f16", "q8_0", "q4_0"], default="f32")
    args = ap.parse_args()
    cfg = json.load(open(os.path.join(args.checkpoint, "config.json")))
    assert cfg["architectures"] == ["LlamaForCausalLM"], cfg["architectures"]
    t = read_safetensors(os.path.join(args.checkpoint, "model.safetensors"))
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    layers = cfg["num_hidden_layers"]
    qtype = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
             "q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}[args.type]
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[args.type]

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("kiln-bench-llama")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(layers)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(cfg.get("head_dim") or cfg["hidden_size"] // heads)
    w.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(cfg["rms_norm_eps"]))
    w.add_file_type(ftype)
    vocab = cfg["vocab_size"]
    w.add_tokenizer_model("llama")
    w.add_token_list([b"<unk>", b"<s>", b"</s>"] + [f"t{i}".encode() for i in range(3, vocab)])
    w.add_token_scores([0.0] * vocab)
    w.add_token_types([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
                      + [gguf.TokenType.NORMAL] * (vocab - 3))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def put(name, a, matrix=True):
        if not matrix or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, a.astype(np.float32))
        elif qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            q = gguf.quants.quantize(a.astype(np.float32), qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)

    put("token_embd.weight", t["model.embed_tokens.weight"])
    for i in range(layers):
        p = f"model.layers.{i}."
        put(f"blk.{i}.attn_norm.weight", t[p + "input_layernorm.weight"], False)
        put(f"blk.{i}.attn_q.weight", permute(t[p + "self_attn.q_proj.weight"], heads))
        put(f"blk.{i}.attn_k.weight", permute(t[p + "self_attn.k_proj.weight"], kv_heads))
        put(f"blk.{i}.attn_v.weight", t[p + "self_attn.v_proj.weight"])
        put(f"blk.{i}.attn_output.weight", t[p + "self_attn.o_proj.weight"])
        put(f"blk.{i}.ffn_norm.weight", t[p + "post_attention_layernorm.weight"], False)
        put(f"blk.{i}.ffn_gate.weight", t[p + "mlp.gate_proj.weight"])
        put(f"blk.{i}.ffn_up.weight", t[p + "mlp.up_proj.weight"])
        put(f"blk.{i}.ffn_down.weight", t[p + "mlp.down_proj.weight"])
    put("output_norm.weight", t["model.norm.weight"], False)
    put("output.weight", t.get("lm_head.weight", t["model.embed_tokens.weight"]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
