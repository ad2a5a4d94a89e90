"""Tokenizing one conversation's prompts incrementally.

Each turn's prompt is the previous one's text plus a new tail (the window keeps
its prefix stable), and the sliding window, the router and the backend each
need its exact tokens. Tokenizing a long prompt again every time costs
milliseconds per thousand tokens; this keeps the last prompt's tokens and only
tokenizes the text after the shared part.

That is exact because llama.cpp splits a text at special tokens (`<|im_start|>`,
…) before it runs BPE on the pieces between them: the tokens of a prefix that
ends just before a special token are those of the whole text's prefix. A model
whose tokens do not spell its text back byte for byte (e.g. SentencePiece's
added space) is tokenized whole every time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.backends.llama.engine import Engine

_CHUNK = 4096
_SPECIAL = (1 << 3) | (1 << 4)  # LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED
_LSTRIP = 1 << 7  # LLAMA_TOKEN_ATTR_LSTRIP


def common_prefix(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the longest common prefix of two byte strings or token lists, comparing
    big chunks first."""
    n = min(len(a), len(b))
    i = 0
    while i + _CHUNK <= n and a[i : i + _CHUNK] == b[i : i + _CHUNK]:
        i += _CHUNK
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PromptTokenizer:
    def __init__(self, engine: Engine) -> None:
        self._llama = engine.llama
        self._token_attr = engine.token_attr
        self._lock = threading.Lock()
        self._piece = engine.piece_reader(special=True)  # its own buffer, used under the lock
        self._exact = True  # False once the tokens are found not to spell the text
        self._text = b""
        self._add_bos = False
        self._tokens: list[int] = []
        self._starts: list[int] = []  # byte offset in the text where each token's text starts
        self._special: list[bool] = []

    def __call__(self, text: bytes, add_bos: bool) -> list[int]:
        with self._lock:
            keep = self._reusable(text, add_bos)
            if keep:
                tail = self._llama.tokenize(text[self._starts[keep] :], add_bos=False, special=True)
                tokens = self._tokens[:keep] + tail
                self._remember(text, add_bos, tokens, keep)
            else:
                tokens = self._llama.tokenize(text, add_bos=add_bos, special=True)
                if self._exact:
                    self._remember(text, add_bos, tokens, 0)
            return list(tokens)

    def _reusable(self, text: bytes, add_bos: bool) -> int:
        """How many of the last prompt's tokens this one starts with (0: none can be trusted)."""
        if not self._exact or not self._tokens or add_bos != self._add_bos:
            return 0
        shared = common_prefix(text, self._text)
        first = 1 if add_bos else 0  # BOS is not in the text
        for k in range(len(self._tokens) - 1, first, -1):
            if self._special[k] and self._starts[k] <= shared:
                return k
        return 0

    def _remember(self, text: bytes, add_bos: bool, tokens: list[int], keep: int) -> None:
        starts, special = self._starts[:keep], self._special[:keep]
        at = starts[-1] + len(self._piece(tokens[keep - 1])) if keep else 0
        get_attr = self._token_attr
        for i, token in enumerate(tokens[keep:], keep):
            starts.append(at)
            attr = get_attr(token)
            # A split point: a special token that takes no whitespace from the text before it.
            special.append(bool(attr & _SPECIAL) and not attr & _LSTRIP)
            if not (i == 0 and add_bos):
                at += len(self._piece(token))
        if at != len(text):  # the tokens do not spell the text: never reuse for this model
            self._exact = False
            self._tokens = []
            return
        self._text, self._add_bos, self._tokens, self._starts, self._special = text, add_bos, tokens, starts, special
