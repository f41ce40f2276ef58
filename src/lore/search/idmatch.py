"""The exact-id leg: documents named by an id the query contains, in any form typed.

People search for ``KABSD-TSK-0350`` expecting that item, not the twenty
items that mention it, and they type ids short: ``TSK-0350`` (no product
prefix), ``0350`` (the number), ``KABSD-TSK-0060@019b8f52`` (an id shared by
several files, pinned by a uid prefix), or the first 8+ characters of a uid.
Each candidate (the query's id-shaped tokens, and the whole query when it is
one token) is looked up in the first form that finds something: the exact
id or uid, then ``ID@uid``, the short forms, the uid prefix, and the file
name stem (``README`` finds ``README.md``). The engine pins this leg (see
``lore.search.fusion``), so every match ranks first; when a short form names
several documents, all of them are pinned and the leg's notes say so.

People drop the number's zero padding (``KABSD-TSK-350``, ``tsk-35``,
``350``): a candidate ending in a number that finds nothing as typed is
looked up again with the number padded to the backlog's four digits
(``spellings``), so every form below has one unpadded twin.

A number right after a type word is an id too: ``task 0309``, ``bug #11``,
``ADR 4``, ``tsk 83``, ``adr-4``, ``TSK0350`` look the number up among
documents of that type (``item 83``, ``ticket 83``, ``#350``: of any type),
and a one-word type also as an id's type part (``ftr 1`` finds
``KCCS-FTR-0001`` whose front matter says it is an Epic), where a bare number inside a sentence ("migrate 0001 items", "top 10
results", "python 3") is no id. A uid's first 8+ hex characters count inside
a sentence too ("what is 019c377b-af1a").

A relation question's anchor (``children of epic 1``) is resolved by this
same code (``lore.search.graph_leg.id_documents``): the relation parser hands
over the anchor text and the type word it stripped, which ``id_candidates``
applies to a bare number as a type word in the text would be.

Each matched document is represented by its best chunk in the keyword
ranking, else its first chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lore.documents.doctypes import normalise_doctype
from lore.search.fusion import LegResult
from lore.search.query import ParsedQuery
from lore.store.base import Restriction, SearchReads

# A single-token query longer than this is not a plausible id or file name.
_MAX_ID_CHARS = 200
_SHORT_ID = re.compile(r"(?:[A-Za-z][A-Za-z0-9]*-)*[A-Za-z][A-Za-z0-9]*-\d+|\d+")
_UID_PREFIX = re.compile(r"[0-9A-Fa-f][0-9A-Fa-f-]{7,}")
_ID_AT_UID = re.compile(r"[^@\s]+@[0-9A-Fa-f][0-9A-Fa-f-]*")
# "task 0309", "bug #11", "ADR 4": a type word, then the number of an id (not the
# tail of a display id: "KO-FTR-0001" is that id, not feature 0001).
_TYPED_NUMBER = re.compile(
    r"(?<![\w-])(task|tsk|bug|epic|feature|ftr|user ?story|story|usr|adr|decision|item|ticket)"
    r"\s*[-#]?\s*(\d{1,6})\b", re.IGNORECASE)
# "#350", "fix #350": an issue-tracker reference, the number of an id of any type
# (not "C#10", "&#39;"; after a type word, "bug #11", the typed number wins).
_HASH_NUMBER = re.compile(r"(?<![\w#&])#(\d{1,6})\b")
# An id-shaped candidate's trailing number, to pad ("KABSD-TSK-350" -> "-0350").
_TRAILING_NUMBER = re.compile(r"(?:(?<=-)|^)(\d+)$")
# The short type names ids carry ("KABSD-TSK-0083"), and words that name no type.
_TYPE_ABBREVIATIONS = {"tsk": "task", "ftr": "feature", "usr": "userstory"}
_UNTYPED = frozenset(("item", "ticket"))
# A uid's first 8+ hex characters inside a sentence: a letter a-f and a digit both,
# so plain numbers (dates) and words are not taken for one.
_UID_PREFIX_WORD = re.compile(r"\b(?=[0-9a-f-]*[a-f])(?=[0-9a-f-]*\d)[0-9a-f]{8}(?:-[0-9a-f]{1,4})*\b",
                              re.IGNORECASE)
# How many ambiguous matches a note names before "and N more".
_NAMED = 8
# Display ids are zero-padded to this many digits in the backlogs seen ("TSK-0011").
_PADDED = 4


@dataclass(frozen=True)
class IdCandidate:
    """One string to look up as an id, and the document type it must have (if any)."""

    text: str
    doctype: str | None = None
    typed: str = ""

    @property
    def label(self) -> str:
        """What the query said for this candidate ("epic 1"), as notes quote it."""
        return self.typed or self.text


def id_candidates(parsed: ParsedQuery, *, doctype: str | None = None) -> list[IdCandidate]:
    """The strings to look up: the parsed ids, a typed number, the text if one token.

    The whole-text rule lets ``README``, a path, a bare number or a uid prefix
    find its file; inline filters are not part of ``parsed.text``, so
    ``type:ADR`` alone looks nothing up. A number inside a sentence is not
    an id ("migrate 0001 items") unless a type word ("task 0309") or a ``#``
    precedes it.

    Args:
        parsed: the query.
        doctype: the type a bare-number text must have: a relation question's
            anchor arrives without the type word the question gave it
            ("children of epic 1" asks about "1", an Epic).
    """
    candidates = [IdCandidate(i) for i in parsed.ids]
    typed_spans = []
    for match in _TYPED_NUMBER.finditer(parsed.text):
        word = match.group(1).lower().replace(" ", "")
        typed_as = None if word in _UNTYPED else normalise_doctype(
            _TYPE_ABBREVIATIONS.get(word, word))
        candidates.append(IdCandidate(match.group(2), typed_as, match.group(0)))
        if " " not in match.group(1):
            candidates.append(IdCandidate(f"{match.group(1)}-{match.group(2)}", None,
                                          match.group(0)))
        typed_spans.append(match.span())
    for match in _HASH_NUMBER.finditer(parsed.text):
        if not any(start <= match.start() < end for start, end in typed_spans):
            candidates.append(IdCandidate(match.group(1), None, match.group(0)))
    known = {c.text.lower() for c in candidates}
    for match in _UID_PREFIX_WORD.finditer(parsed.text):
        if not any(match.group(0).lower() in k for k in known):
            candidates.append(IdCandidate(match.group(0)))
    whole = parsed.text.strip()
    one_token = whole and len(whole) <= _MAX_ID_CHARS and not any(c.isspace() for c in whole)
    if one_token and whole.lower() not in (c.text.lower() for c in candidates):
        hinted = doctype if doctype is not None and whole.isdigit() else None
        candidates.append(IdCandidate(whole, hinted, anchor_label(whole, hinted)))
    # "TSK-0350" is a short id and a typed number's type part both: looked up once
    unique: dict[tuple[str, str | None], IdCandidate] = {}
    for candidate in candidates:
        unique.setdefault((candidate.text.lower(), candidate.doctype), candidate)
    return list(unique.values())


def anchor_label(text: str, doctype: str | None) -> str:
    """How notes quote ``text`` given with a type word apart ("1", Epic -> "Epic 1")."""
    return f"{doctype} {text}" if doctype is not None and text.isdigit() else text


def spellings(text: str) -> list[str]:
    """``text``, then with its trailing number zero-padded to the backlog's width
    (``KABSD-TSK-350`` -> ``KABSD-TSK-0350``, ``35`` -> ``0035``) when it is an
    id-shaped text whose number is shorter than that."""
    match = _TRAILING_NUMBER.search(text) if _SHORT_ID.fullmatch(text) else None
    if match is None or len(match.group(1)) >= _PADDED:
        return [text]
    return [text, text[:match.start()] + match.group(1).zfill(_PADDED)]


def typed(restriction: Restriction | None, doctype: str | None) -> Restriction | None:
    """``restriction`` narrowed to documents of ``doctype`` (a type filter given wins)."""
    if doctype is None:
        return restriction
    if restriction is None:
        return Restriction({"type": (doctype.lower(),)})
    if "type" in restriction.filters:
        return restriction
    return Restriction({**restriction.filters, "type": (doctype.lower(),)},
                       restriction.exclusion)


def id_forms(candidate: str) -> list[str]:
    """The lookup forms (``SearchReads.id_matches``) worth trying, in order."""
    if _ID_AT_UID.fullmatch(candidate):
        return ["id_at_uid", "exact"]
    forms = ["exact"]
    if _SHORT_ID.fullmatch(candidate):
        forms.append("suffix")
    if _UID_PREFIX.fullmatch(candidate) and any(c.isdigit() for c in candidate):
        forms.append("uid_prefix")
    return [*forms, "stem"]


def id_leg(store: SearchReads, candidates: Sequence[IdCandidate], *,
           restriction: Restriction | None = None, prefer: Sequence[int] = ()) -> LegResult:
    """Look ``candidates`` up as ids, uids, short ids, uid prefixes or file stems.

    Args:
        store: the index's store.
        candidates: strings to look up, in the order they should rank.
        restriction: only documents it allows may match.
        prefer: chunk ids in preference order (the keyword leg's ranking): a
            matched document is represented by its best-ranked chunk in this
            list, else by its first chunk, so fusion credits one chunk with
            both legs and the snippet shows where the query matched.

    Returns:
        One chunk per matched document, in candidate order (documents sharing
        an id follow each other by path), with a note per ambiguous text the
        query holds (candidates read off one text, "ftr 1" as a Feature's
        number and as ``FTR-1``, make one note).
    """
    ranked: list[tuple[int, float]] = []
    named: dict[str, dict[int, str]] = {}   # label -> chunk id -> doc id, all it found
    short: set[str] = set()                 # labels that matched through a short form
    for candidate in candidates:
        form, found = lookup(store, candidate, restriction=restriction, prefer=prefer)
        named.setdefault(candidate.label, {}).update(found)
        if form in ("suffix", "uid_prefix"):
            short.add(candidate.label)
        ranked.extend((chunk_id, 1.0) for chunk_id, _ in found)
    notes = tuple(ambiguity_note(label, list(docs.values())) for label, docs in named.items()
                  if label in short and len(docs) > 1)
    return LegResult("id", list(dict(ranked).items()), notes)


def lookup(store: SearchReads, candidate: IdCandidate, *, restriction: Restriction | None,
           prefer: Sequence[int] = ()) -> tuple[str, list[tuple[int, str]]]:
    """The first spelling (``spellings``) and form (``id_forms``) in which ``candidate``
    names documents, and their (chunk id, doc id); ``("", [])`` when none does."""
    narrowed = typed(restriction, candidate.doctype)
    for text in spellings(candidate.text):
        for form in id_forms(text):
            found = store.id_matches(text, form=form, restriction=narrowed, prefer=prefer)
            if found:
                return form, found
    return "", []


def ambiguity_note(candidate: str, doc_ids: list[str], *,
                   outcome: str = "all are ranked first") -> str:
    """What is said when a short id names several documents, and what was done
    about it (``outcome``: the exact-id leg ranks them all first, a relation
    question answers for each)."""
    names = ", ".join(doc_ids[:_NAMED])
    more = f" and {len(doc_ids) - _NAMED} more" if len(doc_ids) > _NAMED else ""
    return (f"{candidate!r} is ambiguous: it matches {len(doc_ids)} documents ({names}{more});"
            f" {outcome}. Type more of the id to pick one.")
