"""Token counting for providers without a tokenizer, and choosing a counter.

Shared by the runner (which truncates before a provider sees a text) and the
fallback chain (which counts with its first member's counter); it lives apart
from both so neither has to import the other.
"""

from __future__ import annotations

import math

from lore.embed.base import Embedder, TokenCounter

# English prose averages about four characters per WordPiece/BPE token; code and
# ids run shorter, so the estimate errs towards keeping less text, never more.
CHARS_PER_TOKEN = 4


class CharTokenEstimate:
    """A :class:`TokenCounter` for providers without a tokenizer (remote APIs).

    Counts ``ceil(len / CHARS_PER_TOKEN)`` and truncates to that many
    characters, backing up to the last whitespace so no word is cut in half.
    """

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Estimated token counts, one per text."""
        return [math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts]

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Each text cut to about ``max_tokens`` tokens."""
        limit = max_tokens * CHARS_PER_TOKEN
        out = []
        for text in texts:
            if len(text) <= limit:
                out.append(text)
                continue
            cut = text[:limit]
            if not text[limit].isspace():
                space = cut.rfind(" ", limit * 4 // 5)
                cut = cut[:space] if space > 0 else cut
            out.append(cut)
        return out


def token_counter_for(embedder: Embedder) -> TokenCounter:
    """The embedder itself when it owns a tokenizer, else the character estimate."""
    if isinstance(embedder, TokenCounter):
        return embedder
    return CharTokenEstimate()
