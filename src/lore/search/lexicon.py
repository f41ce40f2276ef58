"""English words typo correction leaves as typed (``lore.search.typos``).

A word no document holds is either a typo ("sqllite") or a real word the
corpus happens to lack ("complaints", "phone", "though"). The corpus alone
cannot tell them apart: its nearest token ("compliants", "prone", "through")
is as near in both cases. A word list can: a real word is never searched as
another one.

The list (``data/english-words.txt.gz``, 72 k words, 198 kB) is Debian's
``wamerican`` (SCOWL size 50, American spelling, with inflections and common
proper names), lower-cased, words of four or more letters only (shorter ones
are never corrected). It is product data, not a model: keyword search
behaves the same whatever embedding model is configured, and with none. Its
licence and the exact derivation are in ``data/english-words.COPYRIGHT``;
why this list and not another is in ``docs/decisions/typo-tolerance.md``.

It is read once per process, and only when a query has a word no document
holds (about 20 ms).
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

_WORDS = "data/english-words.txt.gz"


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every word of the list, lower-cased."""
    packed = resources.files("lore.search").joinpath(_WORDS).read_bytes()
    return frozenset(gzip.decompress(packed).decode("utf-8").split())


def is_english_word(word: str) -> bool:
    """Whether ``word`` (as typed, any case) is a real English word."""
    return word.lower() in english_words()
