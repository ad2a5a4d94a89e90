from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.gguf import GGUFError, read_info


def test_reads_the_embedded_model_header(smollm_path: Path) -> None:
    info = read_info(smollm_path)
    assert info.architecture == "llama"
    assert info.expected_size == info.file_size
    assert info.context_length == 8192
    assert "tokenizer.chat_template" in info.metadata


def test_truncated_file(smollm_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(smollm_path.read_bytes()[: 40_000_000])
    with pytest.raises(GGUFError, match="truncated"):
        read_info(cut)


def test_header_cut_short(smollm_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "head.gguf"
    cut.write_bytes(smollm_path.read_bytes()[:1000])
    with pytest.raises(GGUFError, match="ends inside its header"):
        read_info(cut)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"PK\x03\x04 a zip file", "not a GGUF model file"), (b"GGUF\x09\x00\x00\x00", "unsupported GGUF version 9")],
)
def test_not_gguf(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError, match=message):
        read_info(path)


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="not found"):
        read_info(tmp_path / "none.gguf")
    with pytest.raises(GGUFError, match="directory"):
        read_info(tmp_path)
