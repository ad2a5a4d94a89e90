"""The layers' rules (pyproject.toml, [tool.importlinter]) hold: `lint-imports`
checks every import of the package against them, here so that CI fails when one
breaks."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_contract_is_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


# -- no import cycle, imports under TYPE_CHECKING and lazy package exports included --------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy_targets(package: str, tree: ast.Module) -> set[str]:
    """The submodules a package's `exports(globals(), {name: module})` (core/lazy.py) loads."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "exports" and len(node.args) == 2:
            mapping = node.args[1]
            if isinstance(mapping, ast.Dict):
                found |= {f"{package}.{v.value}" for v in mapping.values if isinstance(v, ast.Constant)}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports, wherever the import stands (a function,
    an `if TYPE_CHECKING:` block): each is a dependency a reader must follow."""
    files = {_module_name(p): p for p in (ROOT / "assistant").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        targets = _lazy_targets(name, tree) if is_package else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
                # `from package import module` depends on the module; a name from a package
                # (its own, or one it exports lazily) depends on the package.
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_type_checking() -> None:
    graph = import_graph()
    assert "assistant.core.words" in graph["assistant.core.decisions"]  # it reads real imports
    graph["assistant.core.words"] = {*graph["assistant.core.words"], "assistant.core.decisions"}
    assert ["assistant.core.decisions", "assistant.core.words"] in cycles(graph)
