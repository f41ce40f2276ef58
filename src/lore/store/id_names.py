"""What the id lookup forms can match, kept per catalog state: a negative filter.

Most id-shaped tokens in prose ("IL-6", "TDP-43", "PD-1") name no document,
and the ``suffix``, ``uid_prefix`` and ``stem`` forms (``lore.store.lookups``)
are ``LIKE`` scans of the whole ``documents`` table: a token that names
nothing paid every scan, tens of milliseconds on a large folder. ``IdNames``
holds every string those forms compare against, folded, so a lookup that
cannot match is answered "no" in memory and only a possible match runs the
SQL, whose answer (which documents, in which order, under which
restriction) stays the only answer.

**A superset, never a miss.** SQLite folds only ASCII letters (``NOCASE``,
``LIKE``, ``lower()``); the filter folds with Python's ``str.casefold``, which
folds those letters the same and much more besides, one character at a time
(unlike ``str.lower``, whose final-sigma rule looks at the neighbours): two
strings SQLite finds equal, or one a prefix or suffix of the other, are so
after casefolding too. So the filter may say "maybe" where SQL then finds
nothing (``straße`` against ``STRASSE``), never "no" where SQL finds a
document. ``%``, ``_`` and ``\\`` are literal on both sides: the SQL
escapes them, the filter compares plain strings. Restrictions are ignored
here (fewer documents can only match less).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


def _fold(text: str) -> str:
    return text.casefold()


def _cuts(text: str, char: str) -> list[int]:
    """Where ``char`` stands in ``text``."""
    found = []
    at = text.find(char)
    while at >= 0:
        found.append(at)
        at = text.find(char, at + 1)
    return found


def _folded_pieces(text: str, spans: Iterable[tuple[int, int]]) -> Iterator[str]:
    """``text[start:end]`` folded, for each span (an ASCII text is folded once: same result)."""
    if text.isascii():
        folded = _fold(text)
        return (folded[start:end] for start, end in spans)
    return (_fold(text[start:end]) for start, end in spans)


@dataclass(frozen=True)
class IdNames:
    """The folded strings each id form compares a candidate against."""

    ids: frozenset[str]          # doc ids and uids (``exact``, the id of ``id_at_uid``)
    suffixes: frozenset[str]     # each doc id's tail after a '-' (``suffix``)
    uids: tuple[str, ...]        # sorted uids (``uid_prefix``, the uid of ``id_at_uid``)
    stems: frozenset[str]        # paths, and what ``stem``'s LIKE patterns cut out of them

    @classmethod
    def build(cls, rows: Iterable[tuple[str | None, str | None, str]]) -> IdNames:
        """From every document's (doc id, uid, path).

        ``stem`` matches a path equal to the candidate, or ``'%/' + stem + '.%'``
        or ``stem + '.%'``: any text between a '/' (or the start) and a later
        '.', which is what is kept (a handful per path).
        """
        ids: set[str] = set()
        suffixes: set[str] = set()
        uids: set[str] = set()
        stems: set[str] = set()
        for doc_id, uid, path in rows:
            if doc_id is not None:
                ids.add(_fold(doc_id))
                suffixes.update(_folded_pieces(doc_id, ((i + 1, len(doc_id))
                                                        for i in _cuts(doc_id, "-"))))
            if uid is not None:
                ids.add(_fold(uid))
                uids.add(_fold(uid))
            stems.add(_fold(path))
            dots = _cuts(path, ".")
            stems.update(_folded_pieces(path, ((start, end) for start in
                                               (0, *(i + 1 for i in _cuts(path, "/")))
                                               for end in dots if end >= start)))
        return cls(frozenset(ids), frozenset(suffixes), tuple(sorted(uids)), frozenset(stems))

    def may_match(self, candidate: str, form: str) -> bool:
        """False only when ``candidate`` cannot name a document in ``form``
        (``lore.store.lookups.ID_FORMS``); True means: ask SQL."""
        if form == "id_at_uid":
            main, _, tail = candidate.partition("@")
            return _fold(main) in self.ids and self._uid_prefix(_fold(tail))
        folded = _fold(candidate)
        if form == "exact":
            return folded in self.ids
        if form == "suffix":
            return folded in self.suffixes
        if form == "uid_prefix":
            return self._uid_prefix(folded)
        if form == "stem":
            return folded in self.stems
        return True

    def _uid_prefix(self, folded: str) -> bool:
        at = bisect_left(self.uids, folded)
        return at < len(self.uids) and self.uids[at].startswith(folded)
