"""The core must stay headless: importing any of it loads no Textual (nor the
heavy backend libraries, which only the backend that needs them imports)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import assistant.core

FORBIDDEN = ("textual", "llama_cpp", "anthropic")


def core_modules() -> list[str]:
    """Every module of the core, its subpackages' too (core/edits/...)."""
    return sorted(m.name for m in pkgutil.walk_packages(assistant.core.__path__, "assistant.core."))


def test_core_has_modules() -> None:
    found = core_modules()
    assert "assistant.core.events" in found and "assistant.core.edits.files" in found


def test_no_core_module_imports_textual_or_heavy_sdks() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"print([m for m in {FORBIDDEN!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_cli_start_imports_nothing_heavy() -> None:
    """`assistant --version/--help` must stay fast: no Textual, llama.cpp or SDK import."""
    code = (
        "import sys\n"
        "from assistant import cli\n"
        "try:\n"
        "    cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([m for m in {FORBIDDEN!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr
