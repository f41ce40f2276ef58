"""The keyword index's vocabulary, searchable by edit distance (for typo correction).

A misspelt query word matches no indexed token; its nearest tokens are found
here. The index is a symmetric-delete dictionary (SymSpell's idea) cut to one
delete: every token and every string made by deleting one of its characters
maps to the tokens it came from. Deleting at most one character on each side
finds every token within distance 1 of a query token. Distance 2 is reached
from the query side instead (``_probes``: double deletes, and single edits
with the vocabulary's alphabet, some less one character), so the index stays
a few entries per token: building SciFact's 20 k tokens with two deletes each
took 0.9 s against 0.1 s with one; the query side costs a few thousand
dictionary lookups, a few milliseconds.

Distances are optimal string alignment (Damerau-Levenshtein where a
transposed pair is not edited again): a typo is one slip (a missed, doubled,
wrong or swapped character), and OSA counts each of those as one edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lore.documents.cjk import has_cjk

# Longer runs of letters (a pasted hash, a base64 blob, "x" * 5000) are no words: never
# corrected and never a correction. The longest English dictionary words have about 45
# letters; the index's keys and a query's probes grow with a token's length squared.
LONGEST_WORD = 48


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance of ``a`` and ``b``, or ``limit + 1`` when it
    is larger than ``limit`` (the computation stops as soon as that is certain)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return min(row[-1], limit + 1)


def _deletes(text: str) -> Iterator[str]:
    """``text`` with one character deleted, at each position."""
    return (text[:i] + text[i + 1:] for i in range(len(text)))


def _probes(text: str, alphabet: str, max_edits: int) -> set[str]:
    """The keys to look up for every token within ``max_edits`` (1 or 2) of ``text``.

    The index holds each token and its one-character deletes. One edit: ``text``
    and its deletes meet a token's keys whatever the edit was. Two edits, case
    by case (ins: a character the token has and ``text`` lacks; del: the other
    way; sub; tr: a swapped pair): del+del, del+ins, del+sub and del+tr meet at
    ``text``'s double deletes; ins+ins, ins+sub and ins+tr at one insertion,
    substitution or swap of ``text`` (that leaves the token less one
    character); sub+tr and tr+tr at a swap of ``text`` less one character; and
    sub+sub at one substitution with a later character deleted, which also
    covers the pair in the other order. About n * n * |alphabet| / 2 keys, a
    quarter of "every edit, then every delete of it".
    """
    deletes = set(_deletes(text))
    probes = {text, *deletes}
    if max_edits < 2:
        return probes
    swaps = {text[:i] + text[i + 1] + text[i] + text[i + 2:] for i in range(len(text) - 1)}
    for edited in (*deletes, *swaps):
        probes.update(_deletes(edited))
    probes.update(swaps)
    for i in range(len(text) + 1):
        head, tail = text[:i], text[i:]
        for char in alphabet:
            probes.add(head + char + tail)                      # an insertion
            if i < len(text) and char != text[i]:
                changed = head + char + text[i + 1:]            # a substitution
                probes.add(changed)
                probes.update(changed[:j] + changed[j + 1:] for j in range(i + 1, len(text)))
    return probes


@dataclass(frozen=True)
class Candidate:
    """An indexed token near a query token."""

    token: str
    distance: int
    documents: int


@dataclass(frozen=True)
class TermIndex:
    """Indexed tokens with their document counts, and the one-delete keys that find them.

    Attributes:
        documents: token -> how many documents hold it.
        keys: a token, or a token less one character -> the tokens it stands for.
        alphabet: every character of the tokens (what a query-side edit may write).
        lengths: every token length, so a word no token is within reach of in length
            (a query of 5,000 x's) skips the probes, whose number grows with the
            word's length squared (and their size with its cube).
    """

    documents: dict[str, int]
    keys: dict[str, tuple[str, ...]]
    alphabet: str
    lengths: frozenset[int]

    @classmethod
    def build(cls, rows: Iterable[tuple[str, int]]) -> TermIndex:
        """From (token, document count) rows; tokens that are not words are left out
        (``is_word_token``): only words are corrected, and only into words."""
        documents = {token: int(count) for token, count in rows
                     if count > 0 and is_word_token(token)}
        keys: dict[str, list[str]] = {}
        for token in documents:
            keys.setdefault(token, []).append(token)
            for key in set(_deletes(token)):
                keys.setdefault(key, []).append(token)
        alphabet = "".join(sorted({char for token in documents for char in token}))
        return cls(documents, {k: tuple(v) for k, v in keys.items()}, alphabet,
                   frozenset(len(token) for token in documents))

    def nearest(self, token: str, max_edits: int) -> list[Candidate]:
        """Indexed tokens within ``max_edits`` (1 or 2) of ``token``, nearest first, then
        by document count (the more common spelling), then alphabetically."""
        if max_edits < 1 or all(abs(len(token) - n) > max_edits for n in self.lengths):
            return []
        near = {found for probe in _probes(token, self.alphabet, min(max_edits, 2))
                for found in self.keys.get(probe, ())}
        near.discard(token)
        found = [Candidate(t, d, self.documents[t]) for t in near
                 if (d := osa_distance(token, t, max_edits)) <= max_edits]
        return sorted(found, key=lambda c: (c.distance, -c.documents, c.token))


def is_word_token(token: str) -> bool:
    """Whether ``token`` is a word worth correcting to: 3 to ``LONGEST_WORD`` letters, no
    digit (CJK bigrams, numbers and codes are matched exactly or not at all)."""
    return 3 <= len(token) <= LONGEST_WORD and token.isalpha() and not has_cjk(token)
