"""The screens pushed over the chat: each loads when first opened (see
core/lazy.py), so the first frame waits for none of them."""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "CostScreen": "cost", "ReportScreen": "report", "ReviewScreen": "review", "SessionsScreen": "sessions",
    "ChecksFailedScreen": "review", "SecretScreen": "secret", "RewindScreen": "rewind",
})  # fmt: skip
