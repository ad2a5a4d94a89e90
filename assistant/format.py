"""How figures look, in the TUI and on the command line.

Formatting only: every figure is computed in the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.chat import TurnResult

DASH = "–"


def rate(tokens_per_second: float | None) -> str:
    if tokens_per_second is None:
        return DASH
    digits = 0 if tokens_per_second >= 100 else 1
    return f"{tokens_per_second:,.{digits}f} tok/s"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def cost(dollars: float | None, known: bool = True) -> str:
    """Unknown cost is shown as unknown, never as $0."""
    if dollars is None:
        return "unknown"
    text = f"${dollars:.4f}" if dollars < 1 else f"${dollars:,.2f}"
    return text if known else f"≥{text}"


def percent(share: float | None) -> str:
    return DASH if share is None else f"{share * 100:.0f}%"


def turn_summary(result: TurnResult) -> str:
    """One line of a finished turn's figures (the TUI's answer footer, `ask`'s stderr line)."""
    s = result.stats
    parts = [
        rate(s.generation_tps),
        f"TTFT {seconds(s.ttft)}",
        f"prompt {rate(s.prompt_eval_tps)}",
        f"{count(s.tokens_in)} in / {count(s.tokens_out)} out",
        cost(result.cost),
    ]
    if s.prompt_tokens_evaluated is not None and s.tokens_in:
        parts.insert(3, f"{count(s.prompt_tokens_evaluated)} evaluated")
    if result.stop_reason == "max_tokens":
        parts.append("stopped at max_tokens")
    return " · ".join(parts)
