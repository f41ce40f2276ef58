"""Make unspaced scripts (Chinese, Japanese, Korean) searchable word by word.

FTS5's ``unicode61`` tokenizer splits on spaces and punctuation, so a
Chinese or Japanese sentence, written without spaces, is one long token: a
search for a two-character word inside it finds nothing. The index therefore
also stores, for every CJK run, its overlapping character bigrams plus the
run's last character (``重構計画`` -> ``重構 構計 計画 画``), in a column of its
own; a query's CJK run becomes the phrase of its bigrams (``"重構 構計"``), and a
single character becomes a prefix term (``"構"*`` matches every bigram that
starts with it, and the trailing unigram covers a run's last character). No
dictionary is needed and every substring of a run of two or more characters
is found, which is what a person scanning for a word expects.

Both sides fold Traditional Chinese characters to Simplified ones first
(``lore.documents.hanfold``), as they fold case, so ``温柔提醒`` finds
``溫柔提醒`` and the reverse: the CJK column holds folded bigrams, and every
query term built from a CJK run (``lore.search.fts``) is folded the same way.
"""

from __future__ import annotations

import re

from lore.documents.hanfold import HAN_CHARS, fold_han

CJK_CHARS = "\u3040-\u30ff\uac00-\ud7af" + HAN_CHARS
"""Hiragana, katakana, Hangul, CJK ideographs (with extensions and compatibility forms)."""

_RUN = re.compile(f"[{CJK_CHARS}]+")


def cjk_runs(text: str) -> list[str]:
    """The maximal runs of CJK characters in ``text``, in order."""
    return _RUN.findall(text)


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK character."""
    return _RUN.search(text) is not None


def split_cjk(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into alternating pieces: (piece, is a CJK run); empty pieces dropped."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for match in _RUN.finditer(text):
        if match.start() > at:
            pieces.append((text[at:match.start()], False))
        pieces.append((match.group(0), True))
        at = match.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def run_bigrams(run: str) -> list[str]:
    """The overlapping bigrams of one CJK run (a one-character run: itself)."""
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def run_tokens(run: str) -> list[str]:
    """What the CJK column holds for one run, as given: its bigrams and its last character."""
    return [*(run_bigrams(run) if len(run) > 1 else []), run[-1]]


def cjk_index_text(text: str) -> str:
    """What the index's CJK column holds for ``text``: each folded run's bigrams and last character.

    Empty for text without CJK, so Latin-only documents cost nothing. The runs
    are folded in one pass (joined by spaces, which no run holds): a call per
    run cost twice as much on a Chinese file.
    """
    runs = cjk_runs(text)
    if not runs:
        return ""
    return " ".join(token for run in fold_han(" ".join(runs)).split(" ")
                    for token in run_tokens(run))
