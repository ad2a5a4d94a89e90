"""The `bench` subcommand's flags, apart from the command itself: building the
argument parser must not import the benchmark, Rich or the backends (start-up)."""

from __future__ import annotations

import argparse

from assistant.core.accounting.bench_results import QUICK_RUNS, RUNS


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `bench` subcommand. Its `--backend` is repeatable and names what to measure,
    so the shared settings flags are not added (their `--backend` would clash); the
    ones that matter for a local model are."""
    parser = sub.add_parser("bench", help="measure prompt and generation speed of each backend on this machine")
    parser.add_argument(
        "--runs", type=_positive, default=None, metavar="N",
        help=f"measured runs per case, after one warm-up (default {RUNS}; {QUICK_RUNS} with --quick)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", dest="bench_backends", action="append", metavar="NAME",
        help="a backend to measure; repeat for several (default: every installed backend)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="shorter answers (16/64 tokens) and fewer runs")
    parser.add_argument(
        "--concurrency", type=_positive, default=1, metavar="N",
        help="streams at once, up to what a backend generates at a time (an inference server's slots)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="exact figures as JSON on stdout")
    group = parser.add_argument_group("settings (override the config file)")
    group.argument_default = argparse.SUPPRESS
    group.add_argument("--model", dest="local.model_path", metavar="PATH", help="GGUF model file")
    group.add_argument("--n-ctx", dest="local.n_ctx", type=int, metavar="N", help="context size")
    group.add_argument("--n-gpu-layers", dest="local.n_gpu_layers", type=int, metavar="N")
    group.add_argument("--n-threads", dest="local.n_threads", type=int, metavar="N")
    group.add_argument(
        "--set", dest="assignments", action="append", metavar="SECTION.KEY=VALUE",
        help="any setting, e.g. --set claude.model=claude-haiku-4-5",
    )  # fmt: skip
