"""Reads a GGUF file's header to check it before llama.cpp loads it.

llama.cpp's own failure on a bad file is a bare "Failed to load model". Reading
the header first lets us say exactly what is wrong: not a GGUF file at all, an
unsupported version, or a download cut short (the tensor data ends past the
end of the file). It also gives the model's name without loading it.

The file is untrusted input: no count or length it declares is used before it
is checked against the bytes the file has left, so any malformed file, however
crafted, is one `GGUFError` naming the file and the fault.
"""

from __future__ import annotations

import re
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistant.core.text import named, shown

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# ggml type id -> (elements per block, bytes per block), for the sizes of tensors.
_BLOCK = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56),
    30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}  # fmt: skip
# GGUF value type id -> struct format of a scalar
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}  # fmt: skip
_STRING, _ARRAY = 8, 9
# The fewest bytes a string (its length) and an array (item type and count) take.
_MIN_ITEM_BYTES = {_STRING: 8, _ARRAY: 12}
_MIN_KV_BYTES = 8 + 4 + 1  # key length, value type, the smallest value
_MIN_TENSOR_BYTES = 8 + 4 + 4 + 8  # name length, dimensions, type, offset
# Caps on what a header may declare, far above any real model's: a corrupt length
# must not make the reader allocate gigabytes, even inside a file that large.
MAX_KEY_BYTES = 65_535  # the GGUF spec's limit on a key (also used for tensor names)
MAX_STRING_BYTES = 16 * 2**20  # chat templates, the longest real strings, are ~100 KB
MAX_ARRAY_DEPTH = 4  # llama.cpp reads no nested arrays at all
MAX_DIMS = 4  # GGML_MAX_DIMS
_SMALL_READ = 4096  # reads this small need no check first: nothing big is allocated


class GGUFError(Exception):
    """The file is not a usable GGUF model; the message says why."""


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, object]  # scalars and strings; arrays are summarised by length
    file_size: int
    expected_size: int  # bytes the tensor data needs, as declared by the header

    @property
    def name(self) -> str:
        """The model's name as a person would write it (see `model_label`)."""
        return model_label(self.metadata, self.path)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def kv_bytes_per_token(self) -> int | None:
        """The KV cache one token takes in one sequence at llama.cpp's default f16 keys and
        values: keys and values of every layer's KV heads; None when the header does not say."""
        arch, meta = self.architecture, self.metadata

        def count(key: str, default: object = None) -> int | None:
            value = meta.get(f"{arch}.{key}", default)
            return value if type(value) is int and value > 0 else None

        layers, heads, width = count("block_count"), count("attention.head_count"), count("embedding_length")
        if layers is None or heads is None or width is None:
            return None
        kv_heads = count("attention.head_count_kv", heads)
        key = count("attention.key_length", width // heads)
        value = count("attention.value_length", key)
        if kv_heads is None or key is None or value is None:
            return None
        return layers * kv_heads * (key + value) * 2


# A quantisation tag at the end of a file's name: "-Q4_K_M", ".Q4_1", "-IQ3_XXS", "-f16".
_QUANT_TAG = re.compile(r"[.\-_](?:I?Q\d+(?:_[A-Z0-9]+)*|B?F16|F32)$", re.IGNORECASE)
_WORD_BREAK = re.compile(r"[\s_-]+")
# A word that claims a context length: "8k", "128K", "Lc100K" (long context), "ctx32k".
_CONTEXT_CLAIM = re.compile(r"[a-z]*\d+(?:\.\d+)?k", re.IGNORECASE)
_MILLIONS = re.compile(r"\d+(?:\.\d+)?m", re.IGNORECASE)  # "1M": a context, unless it is the size label


def _squeezed(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def model_label(metadata: dict[str, object], path: Path) -> str:
    """The model's name, without claims about its context.

    `general.name` is written by the converter, often from a training run's folder
    ("Smollm2 135M 8k Lc100K Mix1 Ep2": its "8k" is the run's, not this file's
    context, which `n_ctx` sets). The file's own name, less its quantisation tag, is
    the publisher's ("SmolLM2-135M-Instruct"): it is used when it names the same
    model (it holds `general.basename` and `general.size_label`) and is not all
    lower case, which would be worse than the converter's capitals. Either way,
    words that claim a context length are dropped.
    """
    stem = _QUANT_TAG.sub("", path.stem)
    name, base, size = (str(metadata.get(f"general.{key}") or "") for key in ("name", "basename", "size_label"))
    spelled = _squeezed(stem)
    publishers = bool(base) and _squeezed(base) in spelled and _squeezed(size) in spelled and not stem.islower()
    words = _WORD_BREAK.split(stem if publishers or not name else name)

    def claims_context(word: str) -> bool:
        millions = bool(size) and word.lower() != size.lower() and _MILLIONS.fullmatch(word) is not None
        return millions or _CONTEXT_CLAIM.fullmatch(word) is not None

    return " ".join(w for w in words if w and not claims_context(w)) or stem or path.name


class _Reader:
    """Reads header fields, trusting no count or length the file declares.

    Every count and length is checked against the bytes left in the file (and
    against a cap) before anything is read or allocated, so a corrupt or crafted
    header is a `GGUFError` at once, never a huge allocation or a long loop.
    """

    def __init__(self, f: BinaryIO, name: str, size: int) -> None:
        self.f = f
        self.name = name  # the file, as messages name it
        self.size = size
        self.cut_short = f"model file ends inside its header (truncated download?): {name}"

    def corrupt(self, what: str) -> GGUFError:
        return GGUFError(f"corrupt GGUF header ({what}): {self.name}")

    def read(self, fmt: str) -> int | float | bool:
        size = struct.calcsize(fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise GGUFError(self.cut_short)
        return struct.unpack(fmt, data)[0]

    def uint(self, fmt: str) -> int:
        return int(self.read(fmt))

    def fits(self, count: int, each: int, what: str) -> int:
        """`count`, once `count` items of at least `each` bytes fit in what is left."""
        left = self.size - self.f.tell()
        if count * each > left:
            raise GGUFError(
                f"model file ends inside its header (truncated download, or a corrupt "
                f"header): it declares {count:,} {what}, at least {count * each:,} bytes, "
                f"and {max(left, 0):,} are left: {self.name}"
            )
        return count

    def string(self, what: str, cap: int = MAX_STRING_BYTES) -> str:
        length = self.uint("<Q")
        if length > cap:
            raise self.corrupt(f"a {what} of {length:,} bytes, more than {cap:,}")
        if length > _SMALL_READ:  # a short read of a small string is caught below, cheaply
            self.fits(length, 1, f"bytes of a {what}")
        data = self.f.read(length)
        if len(data) != length:
            raise GGUFError(self.cut_short)
        return data.decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0) -> object:
        if vtype in _SCALAR:
            return self.read(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string("metadata string")
        if vtype == _ARRAY:
            if depth >= MAX_ARRAY_DEPTH:
                raise self.corrupt(f"arrays nested more than {MAX_ARRAY_DEPTH} deep")
            item_type = self.uint("<I")
            if item_type not in _SCALAR and item_type not in _MIN_ITEM_BYTES:
                raise self.corrupt(f"unknown metadata array item type {item_type}")
            each = struct.calcsize(_SCALAR[item_type]) if item_type in _SCALAR else _MIN_ITEM_BYTES[item_type]
            count = self.fits(self.uint("<Q"), each, "array items")
            if item_type in _SCALAR:
                self.f.seek(each * count, 1)
            else:
                for _ in range(count):
                    self.value(item_type, depth + 1)
            return f"<array of {count}>"
        raise self.corrupt(f"unknown metadata value type {vtype}")

    def tensor_end(self) -> int:
        """Where one tensor's data ends, relative to the start of the data section."""
        name = self.string("tensor name", MAX_KEY_BYTES)
        n_dims = self.uint("<I")
        if n_dims > MAX_DIMS:
            raise self.corrupt(f"tensor {shown(name)} has {n_dims:,} dimensions, at most {MAX_DIMS}")
        elements = 1
        for _ in range(n_dims):
            elements *= self.uint("<Q")
        ggml_type = self.uint("<I")
        offset = self.uint("<Q")
        block, block_bytes = _BLOCK.get(ggml_type, (1, 0))
        return offset + elements // block * block_bytes


def _open(path: Path, name: str) -> tuple[BinaryIO, int]:
    """The open file and its size, or a `GGUFError` that says why it cannot be read."""
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise GGUFError(f"model path is a directory, not a GGUF file: {name}")
        if not stat.S_ISREG(status.st_mode):  # a FIFO would block, a device never end
            raise GGUFError(f"model path is not a regular file: {name}")
        return path.open("rb"), status.st_size
    except FileNotFoundError:
        raise GGUFError(f"model file not found: {name}") from None
    except IsADirectoryError:
        raise GGUFError(f"model path is a directory, not a GGUF file: {name}") from None
    except OSError as exc:
        raise GGUFError(f"cannot open model file {name}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. an embedded NUL byte in the path
        raise GGUFError(f"cannot open model file {name}: {exc}") from None


def read_info(path: str | Path) -> GGUFInfo:
    """Check `path` and read its header; raise `GGUFError` with a clear reason."""
    path = Path(path)
    name = named(str(path))
    f, file_size = _open(path, name)
    with f:
        if f.read(4) != MAGIC:
            raise GGUFError(f"not a GGUF model file (no GGUF signature): {name}")
        r = _Reader(f, name, file_size)
        version = r.uint("<I")
        if version not in (2, 3):
            raise GGUFError(f"unsupported GGUF version {version}: {name}")
        tensor_count = r.uint("<Q")
        kv_count = r.fits(r.uint("<Q"), _MIN_KV_BYTES, "metadata entries")
        metadata: dict[str, object] = {}
        for _ in range(kv_count):
            key = r.string("metadata key", MAX_KEY_BYTES)
            metadata[key] = r.value(r.uint("<I"))
        r.fits(tensor_count, _MIN_TENSOR_BYTES, "tensors")
        data_end = max((r.tensor_end() for _ in range(tensor_count)), default=0)
        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        alignment = alignment if isinstance(alignment, int) and alignment > 0 else DEFAULT_ALIGNMENT
        data_start = -(-f.tell() // alignment) * alignment
    info = GGUFInfo(path, version, tensor_count, metadata, file_size, data_start + data_end)
    if info.expected_size > file_size:
        raise GGUFError(
            f"model file is truncated: {name} has {file_size:,} bytes, its header "
            f"declares {info.expected_size:,} (download it again)"
        )
    return info
