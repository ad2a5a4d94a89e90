"""Textual below its public API is reached from one module only:
assistant/ui/textual_compat.py, which lists what it uses and which of Textual's
hooks our classes override. This checks each of them against the installed
release (the name, where Textual defines it, the signature we call, and what it
does where that is cheap to see), and that no other module of the UI reaches past
Textual's public API, so a release that renames one fails here, by name.
pyproject.toml bounds `textual` below its next major; try a new minor here first.

The `_fatal_error` hook, end to end (an unhandled error ends the app with one line,
through `unhandled_error` and `close_app_now`), is tests/ui/test_input_robustness.py's;
the one layout per growth of a streaming answer is tests/ui/test_rendered.py's."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import re
import tomllib
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TextArea

from assistant.ui import textual_compat
from assistant.ui.textual_compat import LaidOutOnce, close_app_now, unhandled_error

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "assistant" / "ui"
COMPAT = UI / "textual_compat.py"

# Each private method we override or call, with the parameters we call it with.
SIGNATURES = {
    (App, "_fatal_error"): ["self"],
    (TextArea, "_on_key"): ["self", "event"],
    (TextArea, "_on_paste"): ["self", "event"],
    (Widget, "_size_updated"): ["self", "size", "virtual_size", "container_size", "layout"],
    (MessagePump, "_close_messages_no_wait"): ["self"],
}
ATTRIBUTES = {(App, "_exception")}  # set on each instance by App.__init__


def test_the_installed_release_is_within_pyprojects_bound() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [textual] = [r for r in map(Requirement, pyproject["project"]["dependencies"]) if r.name == "textual"]
    assert textual.specifier.contains(version("textual")), (version("textual"), str(textual.specifier))


def test_this_test_names_everything_the_compat_module_lists() -> None:
    assert set(textual_compat.OVERRIDDEN) | set(textual_compat.USED) == set(SIGNATURES) | ATTRIBUTES


@pytest.mark.parametrize(("owner", "name"), list(SIGNATURES), ids=lambda x: x if isinstance(x, str) else x.__name__)
def test_each_private_method_is_textuals_with_the_signature_we_call(owner: type, name: str) -> None:
    assert name in vars(owner), f"textual {version('textual')}: {owner.__name__}.{name} is gone"
    parameters = inspect.signature(vars(owner)[name]).parameters
    assert list(parameters) == SIGNATURES[owner, name], f"{owner.__name__}.{name}{inspect.signature(vars(owner)[name])}"
    if name == "_size_updated":
        assert parameters["layout"].default is True


def test_the_app_keeps_the_unhandled_error_where_unhandled_error_reads_it() -> None:
    """Outside an `except` block `sys.exc_info()` is empty: the error comes from
    `App._exception`, which Textual sets before it calls the `_fatal_error` hook."""
    seen: list[BaseException | None] = []

    class Recording(App):
        def _fatal_error(self) -> None:
            seen.append(unhandled_error(self))

    app = Recording()
    assert "_exception" in vars(app) and app._exception is None
    error = ValueError("nothing handled this")
    app._handle_exception(error)
    assert seen == [error] and seen[0] is error


async def test_closing_now_ends_a_running_app() -> None:
    app = App()
    async with app.run_test():
        assert app.is_running
        close_app_now(app)

        async def stopped() -> None:
            while app.is_running:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(stopped(), timeout=10)


class TwoWidgets(App):
    def compose(self) -> ComposeResult:
        yield Widget(id="plain")
        yield LaidOutOnce(id="once")


async def test_the_size_update_without_a_layout_asks_for_none_where_textuals_asks_for_one(monkeypatch) -> None:
    layouts = []
    real = Screen._refresh_layout
    monkeypatch.setattr(Screen, "_refresh_layout", lambda self, *a, **k: (layouts.append(1), real(self, *a, **k))[1])
    app = TwoWidgets()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        for name, laid_out in (("plain", True), ("once", False)):
            widget = app.query_one(f"#{name}")
            layouts.clear()
            grown = Size(widget.size.width, widget.size.height + 7)
            assert widget._size_updated(widget.size, grown, widget.container_size)
            await pilot.pause()
            await pilot.pause()
            assert bool(layouts) is laid_out, name
        assert widget.virtual_size == grown  # LaidOutOnce's: set all the same, with no layout


# -- no other module of the UI reaches past Textual's public API ---------------------


@cache
def textual_private_names() -> frozenset[str]:
    """Every private name Textual's own source defines or uses on an object."""
    import textual

    found: set[str] = set()
    for path in Path(textual.__file__).parent.rglob("*.py"):
        found.update(re.findall(r"(?:\.|def |class )(_[a-z]\w*)", path.read_text(encoding="utf-8")))
    return frozenset(found)


@cache
def defined_by(base: type) -> frozenset[str]:
    """The private names a Textual class has: in its namespace, or set on `self`."""
    source = inspect.getsource(base)
    return frozenset(n for n in [*vars(base), *re.findall(r"self\.(_[a-z]\w*)", source)] if _private(n))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _on_self(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def _textual_module(name: str) -> bool:
    return name.split(".")[0] == "textual" and any(_private(part) for part in name.split(".")[1:])


def reaches(tree: ast.AST) -> list[str]:
    """Where `tree` imports a private module of Textual or reads a private name of
    Textual's on another object than `self`."""
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and not _on_self(node) and node.attr in textual_private_names():
            found.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if _textual_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "textual":
            if _textual_module(node.module or ""):
                found.append(f"{where}: from {node.module} import ...")
            found += [f"{where}: from {node.module} import {a.name}" for a in node.names if _private(a.name)]
    return found


def overrides(tree: ast.AST, namespace: dict) -> list[str]:
    """The private names of Textual's that our subclasses of its classes define or
    use on `self` (an override, a read, or an attribute of ours that shadows one of
    its own), as `Class.name`."""
    found = []

    def visit(body: list[ast.stmt], scope: object) -> None:
        for node in body:
            if not isinstance(node, ast.ClassDef):
                continue
            cls = scope.get(node.name) if isinstance(scope, dict) else getattr(scope, node.name)
            visit(node.body, cls)
            textual_bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] == "textual"]
            theirs = frozenset().union(*map(defined_by, textual_bases))
            ours = {n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
            ours |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and _on_self(n)}
            found.extend(f"{node.name}.{name}" for name in sorted(ours & theirs) if _private(name))

    visit(tree.body, namespace)
    return found


def ui_modules() -> list[Path]:
    return sorted(p for p in UI.rglob("*.py") if p != COMPAT)


def module_of(path: Path) -> dict:
    return vars(importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")))


@pytest.mark.parametrize(
    "source",
    [
        "app._exception",
        "self.app._close_messages_no_wait()",
        "super()._size_updated(size, virtual_size, container_size)",
        "from textual.widgets._toast import Toast",
        "import textual._compositor",
        "from textual.app import _something_private",
    ],
)
def test_the_checker_sees_a_private_access(source: str) -> None:
    assert reaches(ast.parse(source))


@pytest.mark.parametrize(
    "source",
    [
        "self._parts.append(part)",
        "part.rows",
        "from textual.widgets import TextArea",
        "app.exit(return_code=1)",
    ],
)
def test_the_checker_lets_the_public_api_and_our_own_names_through(source: str) -> None:
    assert not reaches(ast.parse(source))


def test_the_checker_sees_an_override_and_a_shadowed_attribute() -> None:
    source = (
        "from textual.app import App\n"
        "class Mine(App):\n"
        "    def _fatal_error(self): self._exception\n"
        "    def __init__(self): self._mine = 1\n"
    )
    namespace: dict = {}
    exec(compile(source, "<mine>", "exec"), namespace)  # noqa: S102 - a literal above
    assert overrides(ast.parse(source), namespace) == ["Mine._exception", "Mine._fatal_error"]


@pytest.mark.parametrize("path", ui_modules(), ids=lambda p: str(p.relative_to(UI)))
def test_no_module_but_the_compat_one_reaches_past_textuals_public_api(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = reaches(tree)
    assert not found, f"{path.relative_to(ROOT)} reaches past Textual's public API (use textual_compat.py): {found}"
    listed = {name for _, name in textual_compat.OVERRIDDEN}
    unlisted = [o for o in overrides(tree, module_of(path)) if o.split(".")[1] not in listed]
    assert not unlisted, f"{path.relative_to(ROOT)} overrides or uses Textual's own {unlisted} (see textual_compat.py)"


def test_the_compat_module_lists_exactly_what_it_and_the_ui_use() -> None:
    tree = ast.parse(COMPAT.read_text(encoding="utf-8"))
    used = {r.rsplit(".", 1)[1] for r in reaches(tree)}
    listed_used = {name for _, name in textual_compat.USED}
    overridden = {o.split(".")[1] for p in [COMPAT, *ui_modules()] for o in overrides(ast.parse(p.read_text()), module_of(p))}
    assert listed_used <= used <= listed_used | overridden  # `super()._size_updated` is an override's call
    assert overridden == {name for _, name in textual_compat.OVERRIDDEN}
