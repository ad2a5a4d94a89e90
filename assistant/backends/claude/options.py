"""The Claude backend's settings, `[backends.claude]`: a module of its own, so that
reading them (at start-up, to check a config file) imports nothing of the SDK."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.options import SECONDS_MAX, TOKENS_MAX, setting

API_KEY_ENV = "ANTHROPIC_API_KEY"  # read before the file's api_key


@dataclass(frozen=True, slots=True)
class ClaudeOptions:
    model: str = setting("claude-sonnet-5-5", "Claude model id (the current Sonnet by default).")
    max_tokens: int = setting(4096, "Most tokens generated per answer (kept free of the prompt in the context).",
                              minimum=1, maximum=TOKENS_MAX)  # fmt: skip
    temperature: float = setting(
        -1.0,
        "Sampling temperature; negative = not sent (the API's default). "
        "Sonnet 5 and later reject non-default sampling settings.",
        minimum=-1,
        maximum=1,
    )
    system_prompt: str = setting("", "System prompt for Claude; empty = general.system_prompt.")
    base_url: str = setting("", "API base URL; empty = ANTHROPIC_BASE_URL, else Anthropic's.")
    api_key: str = setting(
        "",
        f"API key; the {API_KEY_ENV} environment variable comes first. "
        "`assistant config --set-key` stores it here in a file only you can read.",
        secret=True,
        env=API_KEY_ENV,
    )
    connect_timeout: float = setting(10.0, "Seconds to connect to the API.", minimum=0.1, maximum=SECONDS_MAX)
    read_timeout: float = setting(
        60.0, "Seconds without a byte from the API before the stream counts as stalled.",
        minimum=0.1,
        maximum=SECONDS_MAX,
    )
    max_retries: int = setting(
        4, "Retries of a request that failed before any text arrived (429, 529, 5xx, network).", minimum=0, maximum=100
    )
    retry_max_seconds: float = setting(
        60.0, "Most seconds spent waiting between retries of one turn.", minimum=0, maximum=SECONDS_MAX
    )
    prompt_caching: bool = setting(True, "Mark the stable prefix (system prompt, older history) for caching.")
    cache_ttl: str = setting("5m", "Prompt-cache lifetime: 5m or 1h (1h writes cost more).", choices=("5m", "1h"))
    count_tokens_timeout: float = setting(
        5.0, "Seconds to wait for the API's token count before estimating offline.", minimum=0.1, maximum=SECONDS_MAX
    )
    window_tokens: int = setting(
        0,
        "A cap on the conversation's sliding window, in Claude's tokens; 0 = from the model: its context "
        "window (the price table's context_window) less max_tokens.",
        minimum=0,
        maximum=TOKENS_MAX,
    )
    max_concurrency: int = setting(4, "Requests at once (a batch refactor's files).", minimum=1, maximum=1000)
    requests_per_second: float = setting(2.0, "Most requests started per second (a batch refactor's files).",
                                         minimum=0.01, maximum=1000)  # fmt: skip
