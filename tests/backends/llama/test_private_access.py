"""llama-cpp-python below its public API is reached from one module only:
assistant/backends/llama/engine.py, which lists what it uses
(tests/backends/llama/test_private_api.py checks that list against the installed
release). Read from the source with `ast`: no model, no llama_cpp import."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from assistant.backends.llama import engine

PACKAGE = Path(engine.__file__).parent
# Public submodules of llama_cpp whose names look like C bindings.
PUBLIC_MODULES = {
    "llama_chat_format", "llama_types", "llama_grammar", "llama_tokenizer", "llama_speculative", "llama_cache",
}  # fmt: skip
C_BINDING = re.compile(r"(llama|ggml|llava|mtmd)_")


def _private(attr: str) -> bool:
    return attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))


def _binding(name: str) -> bool:
    """`llama_cpp.llama_cpp`, `llama_cpp._internals`, or a C function re-exported by `llama_cpp`."""
    return _private(name) or (bool(C_BINDING.match(name)) and name not in PUBLIC_MODULES)


def _on_self(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def violations(source: str) -> list[str]:
    """Where `source` reaches into llama-cpp-python's (or anyone's) private parts."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute):
            if _private(node.attr) and not _on_self(node):
                found.append(f"{where}: .{node.attr}")
            elif isinstance(node.value, ast.Name) and node.value.id == "llama_cpp" and _binding(node.attr):
                found.append(f"{where}: llama_cpp.{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "llama_cpp"
                      and any(_binding(part) for part in a.name.split(".")[1:])]  # fmt: skip
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "llama_cpp":
            parts = (node.module or "").split(".")[1:]
            if any(_binding(part) for part in parts):
                found.append(f"{where}: from {node.module} import ...")
            found += [f"{where}: from llama_cpp import {a.name}" for a in node.names if _binding(a.name)]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "llama._ctx.kv_cache_seq_rm(-1, 0, -1)",
        "self.llama._model.vocab",
        "import llama_cpp.llama_cpp as low",
        "from llama_cpp import llama_cpp",
        "from llama_cpp.llama_cpp import llama_token_to_piece",
        "from llama_cpp._internals import LlamaContext",
        "import llama_cpp\nllama_cpp.llama_cpp.llama_get_memory(ctx)",
        "import llama_cpp\nllama_cpp.llama_vocab_is_eog(vocab, 2)",
        "import llama_cpp\nllama_cpp.ggml_abort_callback(0)",
    ],
)
def test_the_checker_sees_a_private_access(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "self._engine.close()",
        "type(exc).__name__",
        "import llama_cpp\nllama_cpp.Llama(model_path=p, seed=llama_cpp.LLAMA_DEFAULT_SEED)",
        "from llama_cpp import llama_chat_format",
        "llama.tokenize(b'hi', add_bos=False, special=True)",
    ],
)
def test_the_checker_lets_the_public_api_through(source: str) -> None:
    assert not violations(source)


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.glob("*.py") if p.name != "engine.py"), ids=lambda p: p.name
)
def test_no_module_but_the_engine_reaches_past_llama_cpps_public_api(path: Path) -> None:
    found = violations(path.read_text())
    assert not found, f"{path.name} reaches past llama-cpp-python's public API (use engine.py): {found}"


def test_the_engine_lists_exactly_what_it_uses() -> None:
    """The names test_llama_private_api.py checks are the ones engine.py touches."""
    tree = ast.parse(Path(engine.__file__).read_text())
    attrs = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    private = {n.attr for n in attrs if _private(n.attr) and not _on_self(n)}
    low_level = {n.attr for n in attrs if isinstance(n.value, ast.Name) and n.value.id == "low"}
    assert private == set(engine.PRIVATE_ON_LLAMA)
    assert low_level == set(engine.LOW_LEVEL)
