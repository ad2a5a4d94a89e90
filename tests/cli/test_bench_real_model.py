"""`assistant bench` on the real SmolLM2: a `--quick`-sized case gives real figures."""

from __future__ import annotations

import re

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.benchmark.cases import bench_cases
from assistant.core.benchmark.measure import bench, run_case
from assistant.core.events import Usage
from tests.conftest import small_options

pytestmark = pytest.mark.model

# The short prompt: the long one takes seconds per run on one thread of a small CPU.
CASE = bench_cases(quick=True)[0]


def test_a_quick_case_on_smollm2(local_backend: LlamaCppBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = local_backend.settings
    final: list[Usage] = []
    stream = local_backend.stream

    def watched(messages, cancel):
        usages = []
        for event in stream(messages, cancel):
            if isinstance(event, Usage):
                usages.append(event)
            yield event
        final.append(usages[-1])

    monkeypatch.setattr(local_backend, "stream", watched)
    result = run_case(local_backend, CASE, runs=2)
    assert result.prompt_tokens == local_backend.count_tokens(CASE.messages).tokens
    assert 0 < result.completion_tokens <= CASE.max_tokens
    assert result.generation_tps > 0 and result.prompt_tps > 0
    assert result.ttft > 0 and result.ttft_spread >= 0
    # every run evaluated the whole prompt: no KV cache left from the run before
    assert len(final) == 3 and all(u.prompt_tokens_evaluated == u.prompt_tokens for u in final)
    assert local_backend.settings is settings  # the case's bound was put back
    assert re.fullmatch(r".+ · \d+\.\d MiB · [0-9a-f]{12}", result.model)
    assert result.peak_memory_bytes is None  # loaded before the benchmark: its load was not seen


def test_a_fresh_load_reports_its_memory() -> None:
    backend = LlamaCppBackend(small_options())
    try:
        (result,) = bench([backend], [CASE], runs=1)
    finally:
        backend.close()
    # the weights (~90 MiB) and the KV cache of a 2,048-token context
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes > 50 << 20
    assert result.generation_tps > 0


def test_bench_at_a_concurrency_loads_an_auto_local_model_with_that_many_and_auto_then_follows_it(capsys) -> None:  # noqa: ANN001
    """Measured once at 6 streams (more than auto's 4 before anything is measured), then
    loaded by auto with what that run and the one-stream run say it gains from."""
    from assistant.cli.commands import main
    from assistant.core.store.ledger import Ledger

    flags = ["--set", "backends.local.n_ctx=1024", "--set", "backends.local.n_threads=2"]
    assert main(["bench", "--backend", "local", "--quick", "--runs", "1", *flags]) == 0
    assert main(["bench", "--backend", "local", "--quick", "--runs", "1", "--concurrency", "6", *flags]) == 0
    words = " ".join(capsys.readouterr().out.split())
    assert "6 streams at once" in words
    with Ledger.open() as ledger:
        results = ledger.bench_results(backend="local")
    assert sorted({r.concurrency for r in results}) == [1, 6]
    from assistant.core.accounting.bench_results import gainful_concurrency

    backend = LlamaCppBackend(small_options(parallel=0))
    assert backend.measured_parallel() == gainful_concurrency(results) in (1, 6)
