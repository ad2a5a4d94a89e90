"""Write a random-weight GGUF of a bigger Llama shape, for speed tests.

The weights are random (normal, std 0.02; norms 1), so the answers are noise,
but every decode does the work of a model of that shape: the same matrices,
the same KV cache, the same llama.cpp path as a trained model of that size.
The tokenizer and chat template are copied from the embedded SmolLM2, so the
app renders prompts and counts tokens exactly as it does for a real model.

The default shape is ~0.5 B parameters (n_embd 1536, 16 layers, n_ff 4096,
12 heads, 4 KV heads), Q8_0: ~0.5 GB, about 5x the embedded model's work per token.

    python bench/make_llama_gguf.py OUT.gguf [--embd 1536] [--layers 16] [--ff 4096]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import quantize

from assistant.backends.llama.backend import embedded_model_path

# What is copied from SmolLM2: the tokenizer, so prompts render and count as for a real model.
_COPIED_PREFIXES = ("tokenizer.",)


def _copy_tokenizer(writer: GGUFWriter, source: Path) -> int:
    """Copy the tokenizer keys of `source`; the vocabulary's size."""
    reader = GGUFReader(source)
    vocab = 0
    for name, field in reader.fields.items():
        if not name.startswith(_COPIED_PREFIXES):
            continue
        kind = field.types[0]
        if kind == GGUFValueType.ARRAY:
            values = list(field.contents())
            if name == "tokenizer.ggml.tokens":
                vocab = len(values)
            writer.add_array(name, values)
        elif kind == GGUFValueType.STRING:
            writer.add_string(name, field.contents())
        elif kind == GGUFValueType.BOOL:
            writer.add_bool(name, bool(field.contents()))
        else:
            writer.add_key_value(name, field.contents(), kind)
    return vocab


def write(out: Path, *, embd: int, layers: int, ff: int, heads: int, kv_heads: int, ctx: int) -> None:
    rng = np.random.default_rng(0)
    writer = GGUFWriter(out, "llama")
    writer.add_name(f"random-llama-{embd}x{layers}")
    writer.add_context_length(ctx)
    writer.add_embedding_length(embd)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(embd // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(7)  # MOSTLY_Q8_0
    vocab = _copy_tokenizer(writer, embedded_model_path())

    def weight(name: str, rows: int, cols: int) -> None:
        data = (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float32)
        q = quantize(data, GGMLQuantizationType.Q8_0)
        writer.add_tensor(name, q, raw_shape=q.shape, raw_dtype=GGMLQuantizationType.Q8_0)

    def norm(name: str) -> None:
        writer.add_tensor(name, np.ones(embd, dtype=np.float32))

    kv = embd // heads * kv_heads
    weight("token_embd.weight", vocab, embd)
    for i in range(layers):
        norm(f"blk.{i}.attn_norm.weight")
        weight(f"blk.{i}.attn_q.weight", embd, embd)
        weight(f"blk.{i}.attn_k.weight", kv, embd)
        weight(f"blk.{i}.attn_v.weight", kv, embd)
        weight(f"blk.{i}.attn_output.weight", embd, embd)
        norm(f"blk.{i}.ffn_norm.weight")
        weight(f"blk.{i}.ffn_gate.weight", ff, embd)
        weight(f"blk.{i}.ffn_up.weight", ff, embd)
        weight(f"blk.{i}.ffn_down.weight", embd, ff)
    norm("output_norm.weight")
    weight("output.weight", vocab, embd)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--embd", type=int, default=1536)
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--ff", type=int, default=4096)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--ctx", type=int, default=8192)
    args = parser.parse_args()
    write(args.out, embd=args.embd, layers=args.layers, ff=args.ff, heads=args.heads, kv_heads=args.kv_heads,
          ctx=args.ctx)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
