"""Times each llama.cpp decode in a process started with this folder on PYTHONPATH
and ASSISTANT_BENCH_DECODES=FILE: one line per decode (start, seconds) written to
FILE when the process exits. bench/tui_terminal.py uses it on both of its sides.

llama-cpp-python's binding of `llama_decode` is wrapped once its `llama_cpp.llama_cpp`
module is imported (a finder on `sys.meta_path` wraps that module's loader), before
the backend binds it; nothing else changes.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import os
import sys
import time

OUT = os.environ.get("ASSISTANT_BENCH_DECODES")
TARGET = "llama_cpp.llama_cpp"


def _patch(module) -> None:  # noqa: ANN001
    decode = module.llama_decode
    times: list[tuple[float, float]] = []

    def timed(ctx, batch):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        try:
            return decode(ctx, batch)
        finally:
            times.append((start, time.perf_counter() - start))

    module.llama_decode = timed

    @atexit.register
    def _write() -> None:
        with open(OUT, "w") as out:
            out.writelines(f"{start:.6f} {seconds:.6f}\n" for start, seconds in times)


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:  # noqa: ANN001
        self.loader.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if OUT:
    sys.meta_path.insert(0, _Finder())
