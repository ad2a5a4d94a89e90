"""Reads a GGUF file's header to check it before llama.cpp loads it.

llama.cpp's own failure on a bad file is a bare "Failed to load model". Reading
the header first lets us say exactly what is wrong: not a GGUF file at all, an
unsupported version, or a download cut short (the tensor data ends past the
end of the file). It also gives the model's name without loading it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
        name = self.metadata.get("general.name")
        return str(name) if name else self.path.stem

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else None


class _Reader:
    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f = f
        self.cut_short = f"model file ends inside its header (truncated download?): {path}"

    def read(self, fmt: str) -> object:
        size = struct.calcsize(fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise GGUFError(self.cut_short)
        return struct.unpack(fmt, data)[0]

    def string(self) -> str:
        length = int(self.read("<Q"))  # type: ignore[arg-type]
        data = self.f.read(length)
        if len(data) != length:
            raise GGUFError(self.cut_short)
        return data.decode("utf-8", errors="replace")

    def value(self, vtype: int) -> object:
        if vtype in _SCALAR:
            return self.read(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = int(self.read("<I"))  # type: ignore[arg-type]
            count = int(self.read("<Q"))  # type: ignore[arg-type]
            if item_type in _SCALAR:
                self.f.seek(struct.calcsize(_SCALAR[item_type]) * count, 1)
            else:
                for _ in range(count):
                    self.value(item_type)
            return f"<array of {count}>"
        raise GGUFError(f"unknown metadata value type {vtype} (corrupt header?): {self.f.name}")


def read_info(path: str | Path) -> GGUFInfo:
    """Check `path` and read its header; raise `GGUFError` with a clear reason."""
    path = Path(path)
    try:
        file_size = path.stat().st_size
        f = path.open("rb")
    except FileNotFoundError:
        raise GGUFError(f"model file not found: {path}") from None
    except IsADirectoryError:
        raise GGUFError(f"model path is a directory, not a GGUF file: {path}") from None
    except OSError as exc:
        raise GGUFError(f"cannot open model file {path}: {exc.strerror}") from None
    with f:
        if f.read(4) != MAGIC:
            raise GGUFError(f"not a GGUF model file (no GGUF signature): {path}")
        r = _Reader(f, path)
        version = int(r.read("<I"))  # type: ignore[arg-type]
        if version not in (2, 3):
            raise GGUFError(f"unsupported GGUF version {version}: {path}")
        tensor_count = int(r.read("<Q"))  # type: ignore[arg-type]
        kv_count = int(r.read("<Q"))  # type: ignore[arg-type]
        metadata: dict[str, object] = {}
        for _ in range(kv_count):
            key = r.string()
            metadata[key] = r.value(int(r.read("<I")))  # type: ignore[arg-type]
        data_end = 0
        for _ in range(tensor_count):
            r.string()
            n_dims = int(r.read("<I"))  # type: ignore[arg-type]
            elements = 1
            for _ in range(n_dims):
                elements *= int(r.read("<Q"))  # type: ignore[arg-type]
            ggml_type = int(r.read("<I"))  # type: ignore[arg-type]
            offset = int(r.read("<Q"))  # type: ignore[arg-type]
            block, block_bytes = _BLOCK.get(ggml_type, (1, 0))
            data_end = max(data_end, offset + elements // block * block_bytes)
        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        alignment = alignment if isinstance(alignment, int) and alignment > 0 else DEFAULT_ALIGNMENT
        data_start = -(-f.tell() // alignment) * alignment
    info = GGUFInfo(path, version, tensor_count, metadata, file_size, data_start + data_end)
    if info.expected_size > file_size:
        raise GGUFError(
            f"model file is truncated: {path} has {file_size:,} bytes, its header "
            f"declares {info.expected_size:,} (download it again)"
        )
    return info
