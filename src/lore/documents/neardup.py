"""Near-identical documents: the same content under several paths.

Backlogs copy files: an agent-skill adapter sits under ``.agent/``,
``.claude/``, ``.codex/``, ``.goose/`` and ``.github/`` with one line
changed; an ADR is re-filed under four numbers with the same body. A search
that lists every copy spends its first page on one piece of content, so
copies are grouped at index time and the search shows each group once, with
the other paths as "also at".

Two documents are near-identical when their titles are the same (letters and
digits, case folded: work items from one template but with different titles
stay apart however similar their bodies) and their bodies' word 3-shingles
overlap: Jaccard at least ``MIN_JACCARD``, or one contains at least
``MIN_CONTAINMENT`` of the other's shingles while being no more than twice as
long (an adapter that adds a section). Shingle sets are summarised by a
``PERMUTATIONS``-value MinHash so a sync compares fingerprints, not texts.
The thresholds were set on the kano backlog development set: its five
commit-convention adapters (Jaccard 0.58-1.0, containment >= 0.94) group,
its per-type templates with different titles do not.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

PERMUTATIONS = 64
SHINGLE = 3
MIN_JACCARD = 0.8
MIN_CONTAINMENT = 0.9
MAX_SIZE_RATIO = 2.0

_PRIME = 4294967291  # the largest prime below 2**32: every hash value fits uint32
_RNG = np.random.default_rng(20240613)  # fixed: fingerprints must agree across runs
_A = _RNG.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")
_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Fingerprint:
    """What near-duplicate detection keeps of a document.

    Attributes:
        title_key: the title with everything but letters and digits removed, lowercased.
        minhash: ``PERMUTATIONS`` uint32 minima, little-endian bytes.
        shingles: how many distinct shingles the body has.
    """

    title_key: str
    minhash: bytes
    shingles: int


def title_key(title: str) -> str:
    """The comparable form of a title."""
    return _NOT_ALNUM.sub("", title).lower()


def fingerprint(title: str, body: str) -> Fingerprint:
    """The fingerprint of a document's title and body (Markdown, no front matter)."""
    words = _WORD.findall(body.lower())
    grams = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    grams.discard("")
    if not grams:
        return Fingerprint(title_key(title), b"", 0)
    values = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64,
                         count=len(grams))
    hashed = (values[None, :] * _A[:, None] + _B[:, None]) % _PRIME
    minima = hashed.min(axis=1).astype("<u4")
    return Fingerprint(title_key(title), minima.tobytes(), len(grams))


def near_identical(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether two fingerprints are copies of one piece of content (see the module docstring)."""
    if a.title_key != b.title_key:
        return False
    if not a.shingles or not b.shingles:
        return a.shingles == b.shingles  # two empty bodies under one title
    jaccard = float(np.mean(np.frombuffer(a.minhash, "<u4") == np.frombuffer(b.minhash, "<u4")))
    if jaccard >= MIN_JACCARD:
        return True
    small, large = sorted((a.shingles, b.shingles))
    if large > MAX_SIZE_RATIO * small:
        return False
    shared = jaccard * (a.shingles + b.shingles) / (1.0 + jaccard)
    return shared / small >= MIN_CONTAINMENT


def duplicate_groups(items: Iterable[tuple[int, Fingerprint]]) -> dict[int, int]:
    """Document id -> the smallest id of its group, for documents that have copies.

    Only documents with the same title key are compared, so the work is the
    sum of squared title-group sizes, not the square of the corpus. Grouping
    is transitive (single link): A~B and B~C put A, B and C together.
    """
    by_title: dict[str, list[tuple[int, Fingerprint]]] = {}
    for doc, fp in items:
        by_title.setdefault(fp.title_key, []).append((doc, fp))
    parent: dict[int, int] = {}

    def root(doc: int) -> int:
        while parent.get(doc, doc) != doc:
            doc = parent[doc]
        return doc

    for members in by_title.values():
        for i, (doc_a, fp_a) in enumerate(members):
            for doc_b, fp_b in members[i + 1:]:
                if near_identical(fp_a, fp_b):
                    low, high = sorted((root(doc_a), root(doc_b)))
                    if low != high:
                        parent[high] = low
    return {doc: root(doc) for doc in {*parent, *parent.values()}}
