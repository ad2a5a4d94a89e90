"""The one place that touches llama-cpp-python below its public API.

The local backend drives a `Llama` below `create_chat_completion` (see
backend.py for why): several sequences in one context (`n_seq_max`, a stream of
KV cells each), decoded together through `llama_batch`/`llama_decode`,
each sampled by its own native sampler chain at its own logits; the KV-cache
surgery of a sliding window, per sequence; a load that reports progress and can
be cancelled; a decode that a cancel stops inside. All of that needs
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
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from assistant.core.backends.protocol import LoadProgress

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

# What this module uses of llama-cpp-python beyond its public API, by where it lives.
PRIVATE_ON_LLAMA = ("_ctx", "_model", "_init_sampler")
ON_LLAMA = ("n_batch",)  # public, but its meaning is the batch's
ON_CONTEXT = ("ctx",)  # Llama._ctx, an _internals.LlamaContext
ON_MODEL = ("token_get_text", "vocab")  # Llama._model, an _internals.LlamaModel
ON_SAMPLER = ("sampler",)  # what Llama._init_sampler returns, an _internals.LlamaSampler
LOW_LEVEL = (  # llama_cpp.llama_cpp: the C API's bindings
    "llama_log_callback", "llama_log_set",
    "llama_model_default_params", "llama_progress_callback",
    "llama_context_default_params", "llama_n_seq_max",
    "llama_token_to_piece", "llama_vocab_get_attr", "llama_vocab_is_eog",
    "llama_get_memory", "llama_memory_can_shift", "llama_memory_seq_rm", "llama_memory_seq_add",
    "llama_batch_init", "llama_batch_free", "llama_decode", "llama_sampler_sample",
    "llama_set_abort_callback", "ggml_abort_callback",
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


# llama-cpp-python builds its model and context params inside `Llama.__init__`
# and offers no setting for either of what the backend needs there: llama.cpp's
# load progress (and a cancel of the load) through a progress callback, and
# several sequences in one context (`n_seq_max`, a KV cache stream each). Both
# are handed over by swapping the default-params functions it calls for the
# length of the load; loads are serialised so the swap cannot leak.
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def loading(progress: LoadProgress | None, sequences: int = 1) -> Iterator[None]:
    """Around `llama_cpp.Llama(...)`: one load at a time, reporting to `progress`
    (a fraction; returning False cancels the load) when it is given, with a context
    of `sequences` sequences, each owning an equal share of its `n_ctx` cells (the
    backend asks for n_ctx times the sequences: each has room for a conversation)."""
    with _LOAD_LOCK:
        import llama_cpp.llama_cpp as low

        model_params, context_params = low.llama_model_default_params, low.llama_context_default_params

        def report(fraction: float, _user_data: ctypes.c_void_p) -> bool:
            try:
                return bool(progress(float(fraction)))  # type: ignore[misc]
            except Exception:  # a failing progress display must not abort the load
                log.exception("progress callback failed")
                return True

        callback = low.llama_progress_callback(report)

        def model_with_progress() -> Any:
            params = model_params()
            params.progress_callback = callback
            return params

        def context_of_sequences() -> Any:
            params = context_params()
            params.n_seq_max = sequences
            # A stream of cells per sequence, each attending to its own only: a sequence's
            # numbers do not depend on where the others' cells lie, so a greedy answer is
            # the same in a batch as alone (one pool of cells is not: measured).
            params.kv_unified = False
            return params

        if progress is not None:
            low.llama_model_default_params = model_with_progress
        low.llama_context_default_params = context_of_sequences
        try:
            yield
        finally:
            low.llama_model_default_params = model_params
            low.llama_context_default_params = context_params


class Batch:
    """One `llama_batch`: the tokens of one decode, each of one sequence at one position."""

    def __init__(self, capacity: int) -> None:
        import llama_cpp.llama_cpp as low

        self.capacity = capacity
        self.native = b = low.llama_batch_init(capacity, 0, 1)
        self._token, self._pos, self._n_seq, self._seq, self._logits = b.token, b.pos, b.n_seq_id, b.seq_id, b.logits
        self.size = 0

    def clear(self) -> None:
        self.size = 0

    def add(self, token: int, position: int, sequence: int, logits: bool) -> int:
        """Add a token; its index, where its logits are read when `logits`."""
        i = self.size
        self._token[i] = token
        self._pos[i] = position
        self._n_seq[i] = 1
        self._seq[i][0] = sequence
        self._logits[i] = logits
        self.size = i + 1
        return i

    def free(self) -> None:
        import llama_cpp.llama_cpp as low

        if self.native is not None:
            low.llama_batch_free(self.native)
            self.native = None


class Engine:
    """One loaded `llama_cpp.Llama` of one or more sequences, decoded a batch at a time."""

    def __init__(self, llama: Llama) -> None:
        import llama_cpp.llama_cpp as low

        self.llama = llama
        self._ctx = ctx = llama._ctx.ctx
        self._vocab = vocab = llama._model.vocab
        self.sequences = int(low.llama_n_seq_max(ctx))
        self._memory = low.llama_get_memory(ctx)
        self.can_shift = bool(self._memory is not None and low.llama_memory_can_shift(self._memory))
        self.batch = Batch(int(llama.n_batch))
        # C functions with their first arguments bound: no Python frame per call.
        self.is_end_of_generation: Callable[[int], bool] = partial(low.llama_vocab_is_eog, vocab)
        self.token_attr: Callable[[int], int] = partial(low.llama_vocab_get_attr, vocab)  # LLAMA_TOKEN_ATTR_* bits
        self._decode = partial(low.llama_decode, ctx)
        self._should_abort: Callable[[], bool] | None = None
        self._abort_callback = low.ggml_abort_callback(self._abort_requested)

    def close(self) -> None:
        self.batch.free()
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

    # -- a sequence's KV cache -----------------------------------------------

    def keep_cached(self, sequence: int, n: int) -> bool:
        """Keep the first `n` cached tokens of `sequence` and drop the rest; False,
        dropping nothing, for a model whose cache cannot be cut (recurrent)."""
        import llama_cpp.llama_cpp as low

        return bool(low.llama_memory_seq_rm(self._memory, sequence, n, -1))

    def forget(self, sequence: int) -> None:
        """Drop all of `sequence`'s cache (every model can)."""
        import llama_cpp.llama_cpp as low

        low.llama_memory_seq_rm(self._memory, sequence, -1, -1)

    def move_cached(self, sequence: int, start: int, end: int, to: int) -> bool:
        """Move `sequence`'s cached tokens `start:end` down to position `to` (llama.cpp
        shifts their RoPE positions, as its own context shift does), dropping those in
        between and after. False, changing nothing, when the cache cannot shift."""
        import llama_cpp.llama_cpp as low

        if not self.can_shift or not low.llama_memory_seq_rm(self._memory, sequence, to, start):
            return False
        low.llama_memory_seq_add(self._memory, sequence, start, end, to - start)
        low.llama_memory_seq_rm(self._memory, sequence, to + end - start, -1)
        return True

    # -- decoding and sampling -----------------------------------------------

    def sampler(
        self, *, temp: float, top_p: float, top_k: int, min_p: float, repeat_penalty: float, grammar: Any = None
    ) -> Callable[[int], int]:
        """A sampler for one sequence: the chain `Llama.generate()` would build for these
        settings (with a `LlamaGrammar`, only tokens it allows are sampled; each sample
        advances it), as a function from a batch index to the token sampled from the
        logits there. The chain lives as long as the function."""
        import llama_cpp.llama_cpp as low

        chain = self.llama._init_sampler(
            temp=temp, top_p=top_p, top_k=top_k, min_p=min_p, repeat_penalty=repeat_penalty, grammar=grammar
        )
        sample = partial(low.llama_sampler_sample, chain.sampler, self._ctx)
        sample.chain = chain  # type: ignore[attr-defined]  # kept alive (and freed) with the function
        return sample

    def decode(self, should_abort: Callable[[], bool] | None = None) -> int:
        """Decode `self.batch`: llama.cpp's result (0: done; 2: aborted, because
        `should_abort` said so between the graph's nodes; else a failure).

        ggml asks the abort callback between graph nodes (hundreds per decode), so it
        is set only for a decode that `should_abort` is given for (a prompt's chunk),
        never around the per-token decodes."""
        self.batch.native.n_tokens = self.batch.size
        if should_abort is None:
            return int(self._decode(self.batch.native))
        import llama_cpp.llama_cpp as low

        self._should_abort = should_abort
        low.llama_set_abort_callback(self._ctx, self._abort_callback, None)
        try:
            return int(self._decode(self.batch.native))
        finally:
            low.llama_set_abort_callback(self._ctx, low.ggml_abort_callback(0), None)
            self._should_abort = None

    def _abort_requested(self, _data: ctypes.c_void_p) -> bool:
        should = self._should_abort
        return should is not None and should()
