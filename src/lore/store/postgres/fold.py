"""Characters as FTS5's ``unicode61 remove_diacritics 2`` reads them, as one table.

unicode61 decides per code point whether it is part of a token and how it folds
(case, then Latin diacritics), from sqlite's own Unicode tables: not Python's
``str.lower`` nor its notion of a letter. They differ on about 3,000 code points
in ways real text meets: ``µ`` (micro sign) folds to ``μ`` as in ``µm``, a
combining accent (``e`` + U+0301) is dropped inside its word where Python splits
there, ``ǆ`` and ``ĳ`` stay one letter, and code points sqlite's tables do not
assign are token characters. ``data/unicode61.txt`` holds every non-ASCII code
point where unicode61 does not keep the character as it is, read from sqlite by
``sweep`` (``python -m lore.store.postgres.fold > data/unicode61.txt`` writes it;
a test compares it with the running sqlite).
"""

from __future__ import annotations

import sqlite3
import string
import sys
from functools import cache
from importlib import resources
from typing import TextIO

SEPARATOR = " "
_DATA = "data/unicode61.txt"
_LAST = 0x10FFFF


@cache
def table() -> dict[int, str]:
    """A ``str.translate`` table: every character unicode61 does not keep as it is ->
    its fold ("" for a dropped diacritic, a space for a separator)."""
    folds = {c: SEPARATOR for c in range(0x80) if chr(c) not in string.ascii_letters + string.digits}
    folds |= {ord(c): c.lower() for c in string.ascii_uppercase}
    text = resources.files("lore.store.postgres").joinpath(_DATA).read_text("utf-8")
    for line in text.splitlines():
        kind, first, *rest = line.split()
        if kind == "sep":
            folds |= dict.fromkeys(range(int(first, 16), int(rest[0], 16) + 1), SEPARATOR)
        elif kind == "drop":
            folds[int(first, 16)] = ""
        else:
            folds[int(first, 16)] = chr(int(rest[0], 16))
    return folds


def words(text: str) -> list[str]:
    """``text``'s tokens, folded, as FTS5's ``unicode61 remove_diacritics 2`` cuts them."""
    return [token for token in text.translate(table()).split(SEPARATOR) if token]


def sweep(first: int = 0x80, last: int = _LAST) -> dict[int, str | None]:
    """What the running sqlite's unicode61 makes of each code point in [first, last]
    (surrogates skipped): its fold, or None for a separator. Each is read between
    two letters (``q<c>q``), so a separator shows as two tokens."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        points = [c for c in range(first, last + 1) if not 0xD800 <= c < 0xE000]
        db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", ((c, f"q{chr(c)}q") for c in points))
        tokens: dict[int, list[str]] = {}
        for term, row in db.execute("SELECT term, doc FROM v"):
            tokens.setdefault(row, []).append(term)
    finally:
        db.close()
    return {c: None if len(tokens[c]) > 1 else tokens[c][0][1:-1] for c in points}


def _write(out: TextIO = sys.stdout) -> None:
    """Print ``data/unicode61.txt``: separator ranges, dropped and folded code points."""
    lines: list[str] = []
    start = previous = -2
    for c, fold in sorted(sweep().items()):
        if fold is None and c == previous + 1:
            previous = c
            continue
        if start >= 0:
            lines.append(f"sep {start:04X} {previous:04X}")
            start = -2
        if fold is None:
            start = previous = c
        elif fold == "":
            lines.append(f"drop {c:04X}")
        elif fold != chr(c):
            lines.append(f"fold {c:04X} {ord(fold):04X}")
    if start >= 0:
        lines.append(f"sep {start:04X} {previous:04X}")
    print("\n".join(lines), file=out)


if __name__ == "__main__":
    _write()
