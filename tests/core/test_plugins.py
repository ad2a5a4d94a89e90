from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.core.config import Config
from assistant.core.plugins import PluginError, create_backend, list_backends, load_backend_factory
from assistant.core.backends.unavailable import UnavailableBackend


def test_builtin_local_backend_is_an_entry_point() -> None:
    names = {p.name: p for p in list_backends()}
    assert names["local"].target == "assistant.backends.llama.backend:LlamaCppBackend"
    assert names["local"].distribution == "assistant"


def test_listing_imports_no_backend() -> None:
    code = (
        "import sys\n"
        "from assistant.core.plugins import list_backends\n"
        "list_backends()\n"
        "print('assistant.backends.llama.backend' in sys.modules, 'llama_cpp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unknown_backend_lists_installed() -> None:
    with pytest.raises(PluginError, match=r"no backend named 'nope' \(installed: .*local"):
        load_backend_factory("nope")


def test_create_backend_never_raises() -> None:
    backend = create_backend(Config(), "nope")
    assert isinstance(backend, UnavailableBackend)
    assert "no backend named 'nope'" in backend.reason


def test_creating_the_local_backend_does_not_load_llama_cpp() -> None:
    code = (
        "import sys\n"
        "from assistant.core.config import Config\n"
        "from assistant.core.plugins import create_backend\n"
        "b = create_backend(Config(), 'local')\n"
        "print(b.name, b.loaded, 'llama_cpp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["local", "False", "False"]


def test_checking_every_plugin_s_settings_imports_no_model_library() -> None:
    code = (
        "import re, sys\n"
        "from assistant.core import config, routing\n"
        "from assistant.core.routing import discovery\n"
        "text = config.default_file_text(discovery.installed_options(config.Config()))\n"
        "text = re.sub(r'^# (\\[\\w+\\.\\w+\\]|\\w+ = )', r'\\1', text, flags=re.MULTILINE)  # every table\n"
        "routing.check_settings(config.parse(text, 'c.toml'))\n"
        "print(sorted(m for m in ('llama_cpp', 'anthropic', 'tiktoken', 'jinja2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_plugin_tables_the_start_up_check_reads_no_package_metadata() -> None:
    code = (
        "import sys\n"
        "from assistant.core import config, routing\n"
        "routing.check_settings(config.parse('[router]\\nfallback = []\\n', 'c.toml'))\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

