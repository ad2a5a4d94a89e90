"""GGUF headers are untrusted input: any bytes give a header or one `GGUFError`.

A small valid GGUF file is built by hand (`tiny_gguf`), recording where each
count, length and type field sits; then every field is overwritten with
generated values (huge counts such as 2**63 included), the file is cut at
every offset, and arbitrary bytes are read. The reader must answer or raise
`GGUFError` (one line, naming the file), without hanging, within a few MB.
"""

from __future__ import annotations

import struct
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.backends.llama.gguf import GGUFError, GGUFInfo, read_info

U8, U32, U64, F32 = "<B", "<I", "<Q", "<f"
STRING, ARRAY = 8, 9
MAX_SECONDS = 10.0  # a guard against a hang: a read takes about a millisecond
MAX_PEAK_BYTES = 4 * 2**20


@dataclass
class GGUFBuilder:
    """Writes a GGUF file field by field, remembering each integer field's offset."""

    buf: bytearray = field(default_factory=bytearray)
    fields: list[tuple[int, str]] = field(default_factory=list)  # (offset, struct format)

    def put(self, fmt: str, value: object, *, is_field: bool = True) -> None:
        if is_field:
            self.fields.append((len(self.buf), fmt))
        self.buf += struct.pack(fmt, value)

    def string(self, text: str) -> None:
        data = text.encode()
        self.put(U64, len(data))
        self.buf += data

    def kv(self, key: str, vtype: int, value: object) -> None:
        self.string(key)
        self.put(U32, vtype)
        self.value(vtype, value)

    def value(self, vtype: int, value: object) -> None:
        if vtype == STRING:
            self.string(str(value))
        elif vtype == ARRAY:
            item_type, items = value  # type: ignore[misc]
            self.put(U32, item_type)
            self.put(U64, len(items))
            for item in items:
                self.value(item_type, item)
        else:
            fmt = {4: U32, 6: F32, 7: "<?", 10: U64}[vtype]
            self.put(fmt, value, is_field=False)


def tiny_gguf() -> GGUFBuilder:
    """A valid 2-tensor GGUF v3 file with strings, scalars, and (nested) arrays."""
    b = GGUFBuilder()
    b.buf += b"GGUF"
    b.put(U32, 3)
    tensors = [("tok_embd.weight", [4, 3], 0, 0), ("output.weight", [8], 1, 64)]  # f32, f16
    b.put(U64, len(tensors))
    b.put(U64, 7)
    b.kv("general.architecture", STRING, "llama")
    b.kv("general.name", STRING, "Tiny")
    b.kv("llama.context_length", 4, 2048)
    b.kv("general.alignment", 4, 32)
    b.kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["<s>", "a", "b"]))
    b.kv("tokenizer.ggml.scores", ARRAY, (6, [0.0, 1.0, 2.0]))
    b.kv("test.nested", ARRAY, (ARRAY, [(4, [1, 2]), (4, [3])]))
    for name, dims, ggml_type, offset in tensors:
        b.string(name)
        b.put(U32, len(dims))
        for dim in dims:
            b.put(U64, dim)
        b.put(U32, ggml_type)
        b.put(U64, offset)
    b.buf += bytes(-len(b.buf) % 32)
    b.buf += bytes(64 + 16)  # the tensor data: 4*3 f32, pad to 64, then 8 f16
    return b


TINY = tiny_gguf()


def check(path: Path) -> GGUFInfo | GGUFError:
    """Read `path` under the properties: quick, small, and only ever a GGUFError."""
    tracemalloc.start()
    started = time.process_time()  # CPU time: other processes' load does not count
    try:
        outcome: GGUFInfo | GGUFError = read_info(path)
    except GGUFError as exc:
        outcome = exc
    finally:
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s"
    assert peak < MAX_PEAK_BYTES, f"peak {peak:,} bytes"
    if isinstance(outcome, GGUFError):
        message = str(outcome)
        assert str(path) in message and "\n" not in message and len(message) < 500, message
    return outcome


def write(tmp_path: Path, data: bytes, name: str = "model.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def patched(offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(TINY.buf)
    data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(data)


def test_the_hand_built_file_is_read(tmp_path: Path) -> None:
    info = check(write(tmp_path, bytes(TINY.buf)))
    assert isinstance(info, GGUFInfo)
    assert (info.name, info.architecture, info.context_length) == ("Tiny", "llama", 2048)
    assert info.metadata["tokenizer.ggml.tokens"] == "<array of 3>"
    assert info.tensor_count == 2 and info.expected_size == info.file_size


def test_a_cut_at_every_offset_is_a_gguf_error(tmp_path: Path) -> None:
    for end in range(len(TINY.buf)):
        assert isinstance(check(write(tmp_path, bytes(TINY.buf[:end]))), GGUFError), end


HUGE = [2**63, 2**64 - 1, 2**62 + 1, 2**40, 2**32 - 1, 2**31, 10**9]


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_value_in_every_field_is_quick_and_small(tmp_path: Path, value: int) -> None:
    """Regression: a key length of 2**63 was an OverflowError, a seek past an
    array of 2**62 floats another, and a length of 10**9 read a gigabyte."""
    for offset, fmt in TINY.fields:
        value_for_field = value if fmt == U64 else value % 2**32
        check(write(tmp_path, patched(offset, fmt, value_for_field)))


@given(index=st.integers(0, len(TINY.fields) - 1), value=st.integers(0, 2**64 - 1) | st.sampled_from(HUGE))
def test_any_value_in_any_field(tmp_path_factory: pytest.TempPathFactory, index: int, value: int) -> None:
    offset, fmt = TINY.fields[index]
    value %= 2 ** (8 * struct.calcsize(fmt))
    check(write(tmp_path_factory.mktemp("field"), patched(offset, fmt, value)))


HEADERS = [b"", b"GGUF", b"GGUF\x03\x00\x00\x00", bytes(TINY.buf[:24])]


@given(data=st.binary(max_size=2048), header=st.sampled_from(HEADERS))
def test_arbitrary_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes, header: bytes) -> None:
    check(write(tmp_path_factory.mktemp("bytes"), header + data))


@given(flips=st.lists(st.tuples(st.integers(0, len(TINY.buf) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_flipped_bytes(tmp_path_factory: pytest.TempPathFactory, flips: list[tuple[int, int]]) -> None:
    data = bytearray(TINY.buf)
    for at, mask in flips:
        data[at] ^= mask
    check(write(tmp_path_factory.mktemp("flip"), bytes(data)))


def _nested_arrays(depth: int) -> bytes:
    """A header whose one value is an array of arrays of ... `depth` deep."""
    b = GGUFBuilder()
    b.buf += b"GGUF"
    b.put(U32, 3)
    b.put(U64, 0)
    b.put(U64, 1)
    b.string("deep")
    b.put(U32, ARRAY)
    for _ in range(depth):
        b.put(U32, ARRAY)
        b.put(U64, 1)
    b.buf += struct.pack("<IQ", 4, 0)
    return bytes(b.buf)


def test_deeply_nested_arrays_are_refused(tmp_path: Path) -> None:
    """Regression: each level recursed, so 100,000 levels were a RecursionError."""
    outcome = check(write(tmp_path, _nested_arrays(100_000)))
    assert isinstance(outcome, GGUFError) and "nested" in str(outcome)


@pytest.mark.parametrize(
    ("offset_of", "value", "words"),
    [
        ("kv_count", 2**63, "metadata entries"),
        ("tensor_count", 2**63, "tensors"),
        ("key_length", 2**63, "metadata key"),
        ("key_length", 2**20, "metadata key"),
        ("array_count", 2**62, "array items"),
    ],
)
def test_each_fault_is_named(tmp_path: Path, offset_of: str, value: int, words: str) -> None:
    offsets = {"tensor_count": 8, "kv_count": 16, "key_length": 24}
    if offset_of == "array_count":  # the count of tokenizer.ggml.scores (an array of floats)
        at = bytes(TINY.buf).index(b"tokenizer.ggml.scores") + len("tokenizer.ggml.scores") + 4 + 4
    else:
        at = offsets[offset_of]
    outcome = check(write(tmp_path, patched(at, U64, value)))
    assert isinstance(outcome, GGUFError) and words in str(outcome)


def test_not_a_regular_file(tmp_path: Path) -> None:
    """A FIFO would block the reader forever, a device never end."""
    import os

    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    assert "not a regular file" in str(check(fifo))
    with pytest.raises(GGUFError, match="cannot open"):
        read_info("bad\0name.gguf")


# Small counts, some not positive (a width smaller than its heads: a head of 0), or anything else.
_FIGURE = st.integers(-1, 8) | st.integers(-(2**63), 2**64) | st.none() | st.text(max_size=3) | st.floats() | st.booleans()
_KV_KEYS = ["block_count", "attention.head_count", "embedding_length", "attention.head_count_kv",
            "attention.key_length", "attention.value_length"]  # fmt: skip


@given(figures=st.lists(_FIGURE, min_size=len(_KV_KEYS), max_size=len(_KV_KEYS)),
       present=st.lists(st.integers(0, 9).map(bool), min_size=len(_KV_KEYS), max_size=len(_KV_KEYS)))  # fmt: skip
@example(figures=[1, 2, 1, 0, 0, 0], present=[True] * 3 + [False] * 3)  # a head of 1 // 2 = 0 wide
@example(figures=[2, 2, 8, 1, -3, 4], present=[True] * 6)  # keys of a negative width
def test_the_kv_size_per_token_from_any_header_is_a_positive_count_or_unknown(figures: list, present: list) -> None:
    """What the memory check for `parallel` reads: a header's figures may be anything."""
    meta = {f"llama.{k}": v for k, v, there in zip(_KV_KEYS, figures, present) if there}
    info = GGUFInfo(Path("m.gguf"), 3, 0, {"general.architecture": "llama", **meta}, 0, 0)
    size = info.kv_bytes_per_token
    assert size is None or (type(size) is int and size > 0)
