"""The one place that touches llama-cpp-python below its public API.

The local backend drives a `Llama` below `create_chat_completion` (see
backend.py for why): a lean eval/sample loop, the KV-cache surgery of a
sliding window, a load that reports progress and can be cancelled, a prompt
evaluation that a cancel stops inside its decode. All of that needs
llama-cpp-python's private attributes and its C API's bindings
(`llama_cpp.llama_cpp`); they are used here and nowhere else, so a new release
that moves one breaks this module only. The names are listed below, and
tests/backends/llama/test_private_api.py checks each against the installed
release, and that this module uses no other.

`llama_cpp` is imported inside the functions, never at import time, so the app
starts fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from assistant.core.backends.protocol import LoadProgress
from assistant.core.events import Timings

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

# What this module uses of llama-cpp-python beyond its public API, by where it lives.
PRIVATE_ON_LLAMA = ("_ctx", "_model", "_input_ids", "_init_sampler")
ON_LLAMA = ("eval", "reset", "n_tokens", "input_ids")  # public, but their meaning is the loop's
ON_CONTEXT = ("ctx", "kv_cache_seq_rm", "kv_cache_seq_shift")  # Llama._ctx, an _internals.LlamaContext
ON_MODEL = ("token_get_text", "vocab")  # Llama._model, an _internals.LlamaModel
ON_SAMPLER = ("sample",)  # what Llama._init_sampler returns, an _internals.LlamaSampler
LOW_LEVEL = (  # llama_cpp.llama_cpp: the C API's bindings
    "llama_log_callback", "llama_log_set",
    "llama_model_default_params", "llama_progress_callback",
    "llama_token_to_piece", "llama_vocab_get_attr", "llama_vocab_is_eog",
    "llama_get_memory", "llama_memory_can_shift",
    "llama_set_abort_callback", "ggml_abort_callback",
    "llama_perf_context_reset", "llama_perf_context",
)  # fmt: skip

_log_callback: Any = None  # the ctypes callback must outlive every call into llama.cpp


def route_logs() -> None:
    """Send llama.cpp's C-level log to our logger instead of the terminal (once per process)."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp.llama_cpp as low

    @low.llama_log_callback
    def _callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            log.log(logging.WARNING if level in (2, 3) else logging.DEBUG, "llama.cpp: %s", message)

    _log_callback = _callback
    low.llama_log_set(_callback, ctypes.c_void_p(0))


# llama-cpp-python builds its model params inside `Llama.__init__`; the only way
# to get llama.cpp's load progress (and to cancel a load) is to hand it a
# progress callback there. Loads are serialised so the swap cannot leak.
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def loading(progress: LoadProgress | None) -> Iterator[None]:
    """Around `llama_cpp.Llama(...)`: one load at a time, reporting to `progress`
    (a fraction; returning False cancels the load) when it is given."""
    with _LOAD_LOCK:
        if progress is None:
            yield
            return
        import llama_cpp.llama_cpp as low

        original = low.llama_model_default_params

        def report(fraction: float, _user_data: ctypes.c_void_p) -> bool:
            try:
                return bool(progress(float(fraction)))
            except Exception:  # a failing progress display must not abort the load
                log.exception("progress callback failed")
                return True

        callback = low.llama_progress_callback(report)

        def params_with_progress() -> Any:
            params = original()
            params.progress_callback = callback
            return params

        low.llama_model_default_params = params_with_progress
        try:
            yield
        finally:
            low.llama_model_default_params = original


class Engine:
    """One loaded `llama_cpp.Llama`, driven token by token."""

    def __init__(self, llama: Llama) -> None:
        import llama_cpp.llama_cpp as low

        self.llama = llama
        self._vocab = vocab = llama._model.vocab
        # C functions with the vocabulary bound: no Python frame per call.
        self.is_end_of_generation: Callable[[int], bool] = partial(low.llama_vocab_is_eog, vocab)
        self.token_attr: Callable[[int], int] = partial(low.llama_vocab_get_attr, vocab)  # LLAMA_TOKEN_ATTR_* bits
        self._cancel: threading.Event | None = None
        self._abort_callback = low.ggml_abort_callback(self._abort_requested)

    def close(self) -> None:
        self.llama.close()

    # -- the vocabulary ------------------------------------------------------

    def token_text(self, token: int) -> str:
        """A token's text as the vocabulary spells it (`<|im_end|>`), for the chat template."""
        return self.llama._model.token_get_text(token)

    def piece_reader(self, special: bool = False) -> Callable[[int], bytes]:
        """A function from a token to its bytes (`special`: control tokens spelled out,
        as in a prompt). Each has its own buffer: one per thread that reads pieces."""
        import llama_cpp.llama_cpp as low

        to_piece, vocab = low.llama_token_to_piece, self._vocab
        buf = ctypes.create_string_buffer(256)

        def piece(token: int) -> bytes:
            nonlocal buf
            n = to_piece(vocab, token, buf, len(buf), 0, special)
            if n < 0:  # piece longer than the buffer: grow once and retry
                buf = ctypes.create_string_buffer(-n)
                n = to_piece(vocab, token, buf, len(buf), 0, special)
            return buf.raw[:n]

        return piece

    # -- the KV cache --------------------------------------------------------

    def cached_tokens(self) -> list[int]:
        """The tokens whose keys and values the cache holds, in order."""
        return self.llama._input_ids.tolist()

    def keep_cached(self, n: int) -> bool:
        """Keep the first `n` cached tokens and drop the rest; False, dropping
        nothing, for a model whose cache cannot be cut (recurrent)."""
        if not self.llama._ctx.kv_cache_seq_rm(-1, n, -1):
            return False
        self.llama.n_tokens = n
        return True

    def move_cached(self, start: int, end: int, to: int) -> bool:
        """Move the cached tokens `start:end` down to position `to` (llama.cpp shifts
        their RoPE positions, as its own context shift does), dropping those in
        between and after. False, changing nothing, when the cache cannot shift."""
        import llama_cpp.llama_cpp as low

        llama, ctx = self.llama, self.llama._ctx
        memory = low.llama_get_memory(ctx.ctx)
        if memory is None or not low.llama_memory_can_shift(memory):
            return False
        if not ctx.kv_cache_seq_rm(-1, to, start):
            return False
        kept = end - start
        ctx.kv_cache_seq_shift(0, start, end, to - start)  # one sequence: 0
        ctx.kv_cache_seq_rm(-1, to + kept, -1)
        llama.input_ids[to : to + kept] = llama.input_ids[start:end].copy()
        llama.n_tokens = to + kept
        return True

    def reset(self) -> None:
        """Forget the cache: the next `eval` starts from nothing."""
        self.llama.reset()

    # -- evaluating and sampling ---------------------------------------------

    def sampler(
        self, *, temp: float, top_p: float, top_k: int, min_p: float, repeat_penalty: float, grammar: Any = None
    ) -> Any:
        """The sampler chain `Llama.generate()` would build for these settings (with a
        `LlamaGrammar`, only tokens it allows are sampled; each sample advances it)."""
        return self.llama._init_sampler(
            temp=temp, top_p=top_p, top_k=top_k, min_p=min_p, repeat_penalty=repeat_penalty, grammar=grammar
        )

    def eval(self, tokens: Sequence[int]) -> None:
        """Evaluate `tokens` after the cached ones."""
        self.llama.eval(tokens)

    def sample(self, sampler: Any) -> int:
        """The next token, from the logits of the last one evaluated."""
        return sampler.sample(self.llama._ctx, -1)

    def token_loop(self, sampler: Any) -> tuple[Callable[[Sequence[int]], None], Callable[[], int]]:
        """`evaluate, next_token` for the per-token loop, bound once:
        `evaluate((token,)); token = next_token()`. `Llama.eval` itself and the
        sampler's method with its arguments bound in C: no Python frame is added
        per token."""
        return self.llama.eval, partial(sampler.sample, self.llama._ctx, -1)

    @contextlib.contextmanager
    def abortable(self, cancel: threading.Event) -> Iterator[None]:
        """Let `cancel` stop llama.cpp inside a decode, not only between tokens.

        Evaluating a long prompt on a big model takes seconds in one call. ggml asks
        the abort callback between graph nodes (hundreds per decode), so set it
        only while a prompt is evaluated, never around the per-token decodes.
        """
        import llama_cpp.llama_cpp as low

        ctx = self.llama._ctx.ctx
        self._cancel = cancel
        low.llama_set_abort_callback(ctx, self._abort_callback, None)
        try:
            yield
        finally:
            low.llama_set_abort_callback(ctx, low.ggml_abort_callback(0), None)
            self._cancel = None

    def _abort_requested(self, _data: ctypes.c_void_p) -> bool:
        cancel = self._cancel
        return cancel is not None and cancel.is_set()

    # -- llama.cpp's own timings ---------------------------------------------

    def reset_timings(self) -> None:
        import llama_cpp.llama_cpp as low

        low.llama_perf_context_reset(self.llama._ctx.ctx)

    def timings(self) -> Timings:
        """Prompt evaluation and generation, as llama.cpp measured them since `reset_timings`."""
        import llama_cpp.llama_cpp as low

        perf = low.llama_perf_context(self.llama._ctx.ctx)
        return Timings(
            prompt_eval_seconds=perf.t_p_eval_ms / 1000.0,
            prompt_eval_tokens=perf.n_p_eval,
            generation_seconds=perf.t_eval_ms / 1000.0,
            generated_tokens=perf.n_eval,
        )
