"""The local backend's settings, `[backends.local]`: a module of its own, so that
reading them (at start-up, to check a config file) imports nothing of llama.cpp."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.options import TOKENS_MAX, setting


@dataclass(frozen=True, slots=True)
class LlamaOptions:
    model_path: str = setting(
        "",
        "GGUF model file (any llama.cpp model; a Llama 3.x 70B Instruct on a GPU box). "
        "Empty: the embedded SmolLM2-135M-Instruct.",
        path=True,
    )
    n_ctx: int = setting(
        4096,
        "Context size in tokens, the KV cache llama.cpp allocates: the conversation's window is this "
        "(or the context the model was trained for, when smaller) less max_tokens.",
        minimum=64,
        maximum=TOKENS_MAX,
    )
    n_gpu_layers: int = setting(0, "Layers offloaded to the GPU: 0 = CPU only, -1 = all.", minimum=-1, maximum=100_000)
    n_threads: int = setting(0, "CPU threads for generation; 0 = the number of physical cores.", minimum=0, maximum=4096)
    n_batch: int = setting(512, "Prompt tokens evaluated per batch.", minimum=1, maximum=TOKENS_MAX)
    parallel: int = setting(
        0,
        "Generations decoded at once in one context (a batch refactor's files, an evaluation's tasks); "
        "the chat's conversation keeps a sequence of its own besides. Each takes n_ctx of KV cache. "
        "0 = auto: what `assistant bench --concurrency N` measured this machine gains most from (1 where "
        "nothing gained), else 4; fewer where their KV cache does not fit in memory beside the model, "
        "1 where a GPU cannot make the context.",
        minimum=0,
        maximum=64,
    )
    flash_attn: bool = setting(False, "Use flash attention (faster on GPUs that support it).")
    max_tokens: int = setting(1024, "Most tokens generated per answer (kept free of the prompt in the context).",
                              minimum=1, maximum=TOKENS_MAX)  # fmt: skip
    temperature: float = setting(0.2, "Sampling temperature; 0 = greedy.", minimum=0, maximum=2)
    top_p: float = setting(0.95, "Nucleus sampling threshold.", minimum=0, maximum=1)
    top_k: int = setting(40, "Sample from the k most likely tokens; 0 = all.", minimum=0, maximum=TOKENS_MAX)
    min_p: float = setting(0.05, "Drop tokens below this share of the top token's probability.", minimum=0, maximum=1)
    repeat_penalty: float = setting(1.1, "Penalty for repeating recent tokens; 1.0 = none.", minimum=0, maximum=10)
    seed: int = setting(-1, "Sampling seed; -1 = random.", minimum=-1, maximum=2**32 - 1)
    window_tokens: int = setting(
        0,
        "A cap on the conversation's sliding window, in the model's tokens; 0 = from the model: its context "
        "(n_ctx, or the context it was trained for when that is smaller) less max_tokens.",
        minimum=0,
        maximum=TOKENS_MAX,
    )
