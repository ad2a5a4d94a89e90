"""Start-up laziness lives at package boundaries (core/lazy.py), not in imports
scattered inside functions; and what the first frame does not need stays unloaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import assistant
from assistant.core import lazy

PACKAGE = Path(assistant.__file__).parent
# The one in-function import of the package's own modules: it needs the Anthropic SDK.
ALLOWED = {("backends/claude/backend.py", "assistant.backends.claude.errors")}


def test_no_function_imports_the_package_s_own_modules() -> None:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("assistant"):
                        found.add((str(path.relative_to(PACKAGE)), inner.module))
                    elif isinstance(inner, ast.Import) and any(a.name.startswith("assistant") for a in inner.names):
                        found.add((str(path.relative_to(PACKAGE)), inner.names[0].name))
    assert found == ALLOWED, f"import these at the top, or read them through a package's lazy exports: {found - ALLOWED}"


def test_importing_the_tui_loads_no_database_plugin_registry_screen_or_command_table() -> None:
    code = (
        "import sys, assistant.ui.app\n"
        "print(sorted(m for m in ('sqlite3', 'importlib.metadata', 'assistant.core.store.ledger',"
        " 'assistant.core.routing.discovery', 'assistant.core.workflows.refactor', 'assistant.ui.screens.cost',"
        " 'assistant.ui.slash', 'assistant.ui.palette', 'assistant.ui.loading', 'assistant.ui.actions',"
        " 'assistant.core.session.chat', 'assistant.core.session.opening', 'assistant.core.session.secret_hold',"
        " 'assistant.core.results', 'assistant.core.accounting.bench_results', 'assistant.core.window',"
        " 'anthropic', 'llama_cpp', 'tiktoken', 'git') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_tui_command_loads_its_exit_summary_s_database_and_tables_only_when_it_ends() -> None:
    """`assistant` imports cli/tui.py before the first frame: the summary it prints on exit waits."""
    code = (
        "import sys, assistant.cli.tui\n"
        "print(sorted(m for m in ('sqlite3', 'assistant.core.store.ledger', 'assistant.core.accounting.cost_summary',"
        " 'assistant.render.cost') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("package", ["assistant.core.store", "assistant.core.routing", "assistant.core.accounting",
                                     "assistant.core.session", "assistant.render",
                                     "assistant.core.edits", "assistant.core.workflows", "assistant.ui",
                                     "assistant.ui.screens"])
def test_every_lazy_export_resolves(package: str) -> None:
    module = __import__(package, fromlist=["_"])
    for name in dir(module):
        if not name.startswith("_"):
            assert getattr(module, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    namespace = {"__name__": "assistant.core.store"}
    getattr_, dir_ = lazy.exports(namespace, {"Ledger": "ledger"})
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        getattr_("Nope")
    assert getattr_("Ledger").__name__ == "Ledger" and "Ledger" in namespace and "Ledger" in dir_()
