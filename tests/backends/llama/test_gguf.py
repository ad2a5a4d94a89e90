from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.cli import main
from assistant.core.backends.protocol import BackendUnavailable
from assistant.backends.llama.gguf import GGUFError, read_info
from tests.conftest import small_options
from tests.backends.llama.test_gguf_properties import TINY


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


# -- a corrupt model through the backend, the CLI and the TUI: one line, never a traceback --

KEY_LENGTH_2_63 = b"GGUF\x03\x00\x00\x00" + struct.pack("<QQQ", 0, 1, 2**63)  # once an OverflowError


def _load_error(path: Path) -> BackendUnavailable:
    backend = LlamaCppBackend(small_options(), model_path=path)
    with pytest.raises(BackendUnavailable) as caught:
        backend.load()
    message = str(caught.value)
    assert "\n" not in message and len(message) < 600, message
    return caught.value


def _with_chat_template(smollm_path: Path, target: Path, template: bytes) -> Path:
    """A copy of SmolLM2 whose chat template is `template` (padded to the same length)."""
    data = bytearray(smollm_path.read_bytes())
    key = b"tokenizer.chat_template"
    at = data.index(key) + len(key)
    _vtype, length = struct.unpack_from("<IQ", data, at)
    data[at + 12 : at + 12 + length] = template.ljust(length)
    target.write_bytes(data)
    return target


@pytest.mark.parametrize(
    "content", [os.urandom(4096), b"GGUF" + os.urandom(4096), b""], ids=["random", "gguf-random", "empty"]
)
def test_garbage_is_refused_before_llama_cpp(tmp_path: Path, content: bytes) -> None:
    error = _load_error(write(tmp_path / "bad.gguf", content))
    assert error.kind == "model_file" and "bad.gguf" in str(error)


def test_a_header_llama_cpp_rejects_is_one_line(tmp_path: Path) -> None:
    """A well-formed header without the model's tensors: llama-cpp-python raises
    ValueError("Failed to load model from file"), which becomes BackendUnavailable."""
    error = _load_error(write(tmp_path / "tiny.gguf", bytes(TINY.buf)))
    assert error.kind == "load" and "could not load tiny.gguf" in str(error)


def test_a_valid_header_with_truncated_tensors(smollm_path: Path, tmp_path: Path) -> None:
    cut = write(tmp_path / "cut.gguf", smollm_path.read_bytes()[:-1000])
    assert "truncated" in str(_load_error(cut))


@pytest.mark.parametrize(
    "template", [b"{% if %}{{ oops", b"{{ raise_exception('no users here') }}"], ids=["syntax", "raises"]
)
def test_a_broken_chat_template_fails_the_load(smollm_path: Path, tmp_path: Path, template: bytes) -> None:
    """Regression: a template jinja cannot compile escaped load() as TemplateSyntaxError
    (a traceback in `ask`); one that raises loaded, then failed every turn."""
    path = _with_chat_template(smollm_path, tmp_path / "template.gguf", template)
    error = _load_error(path)
    assert error.kind == "load" and "chat template in template.gguf is broken" in str(error)


@pytest.mark.parametrize("backend", ["local", "auto"])
@pytest.mark.parametrize("content", [KEY_LENGTH_2_63, bytes(TINY.buf)], ids=["key-length-2**63", "no-tensors"])
def test_ask_with_a_corrupt_model_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str, content: bytes
) -> None:
    bad = write(tmp_path / "BAD.gguf", content)
    assert main(["ask", "--backend", backend, "--model", str(bad), "hello"]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines and all(line.startswith("assistant: ") for line in lines), err
    assert "BAD.gguf" in err and "Traceback" not in err


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content", [KEY_LENGTH_2_63, bytes(TINY.buf)], ids=["key-length-2**63", "no-tensors"])
async def test_the_tui_says_model_not_loaded_in_one_line(tmp_path: Path, content: bytes) -> None:
    from assistant.core.config import Config
    from assistant.ui.app import make_app
    from assistant.ui.messages import LoadFinished
    from tests.ui.helpers import transcript_text, wait_for

    backend = LlamaCppBackend(small_options(), model_path=write(tmp_path / "BAD.gguf", content))
    seen: list[object] = []
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: any(isinstance(m, LoadFinished) for m in seen))
        await pilot.pause()
        [finished] = [m for m in seen if isinstance(m, LoadFinished)]
        assert finished.error and "\n" not in finished.error and "BAD.gguf" in finished.error
        assert f"Model not loaded: {finished.error}" in " ".join(transcript_text(app).split())
