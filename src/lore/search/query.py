"""Parse what a user typed into free text, inline filters and ids.

The parser is pure (no database): the caller passes the field keys the
catalog knows, so ``type:ADR`` becomes a filter while ``note: foo`` or
``http://host`` stay text. Anything the parser does not recognise stays text;
it never rejects a query, because the FTS builder (``lore.search.fts``) makes
any leftover string safe.

Syntax understood:

- ``key:value`` and ``key:"two words"``: an exact filter, only when ``key``
  (case-insensitive) is a known field key; repeated keys OR their values.
- ``"a phrase"``: matched as a phrase (an unbalanced quote runs to the end).
- ``-word`` / ``-"a phrase"``: excluded from keyword matches. A ``-`` before a
  digit is a sign or a list item ("-5 degrees", "E2f-1, -2, -3 cells"), not an
  exclusion: the number stays a search word.
- ``word*``: prefix match.
- id-shaped tokens (``KABSD-TSK-0350``, ``TSK-0350``, ``ADR-0009``,
  ``KABSD-TSK-0060@019b8f52``, UUIDs, ULIDs) are collected in ``ids`` *and*
  stay in the text, so they are searched too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

# A work-item / ADR display id: letters, optional more letter groups, a number.
_DISPLAY_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z][A-Za-z0-9]*)*-\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ULID = re.compile(r"[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}")
# ``KABSD-TSK-0060@019b8f52``: a display id pinned to one file by a uid prefix.
_ID_AT_UID = re.compile(r"[A-Za-z][A-Za-z0-9-]*-\d+@[0-9A-Fa-f][0-9A-Fa-f-]{3,}")

# One raw token: optional '-' (not before a digit: that is a sign), then either a
# quoted run (closing quote optional), or key:"quoted value", or a run of non-space
# characters.
_TOKEN = re.compile(
    r'(?P<neg>-(?!\d))?(?:"(?P<phrase>[^"]*)"?'
    r'|(?P<key>[\w.]+):"(?P<qvalue>[^"]*)"?'
    r"|(?P<word>\S+))"
)
_FIELD_KEY = re.compile(r"(?<![^\s-])([\w.]+):(?=\S)")
_EDGE_PUNCT = "()[]{}<>,;:.!?'`"


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into its parts.

    Attributes:
        text: the query without its inline filters (ids stay in it).
        positive: what the query asks for, as the vector leg embeds it: ``text``
            without its exclusions, phrase quotes and prefix stars, so an
            excluded word never pulls the query vector towards what it excludes.
        terms: bare words, in order (prefix words keep their trailing ``*``).
        phrases: quoted phrases, without the quotes.
        excluded: words or phrases preceded by ``-``.
        filters: lower-cased field key -> accepted values (lower-cased).
        ids: id-shaped tokens, in order, without duplicates.
    """

    text: str
    positive: str
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Replace what SQLite cannot bind (lone surrogates from a mis-decoded argv, NUL).

    Why: ``sqlite3`` raises on strings that are not valid UTF-8, and a search
    box must never fail on odd input.
    """
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def candidate_field_keys(text: str) -> set[str]:
    """Lower-cased ``key`` parts of every ``key:value`` in ``text``.

    The engine asks the catalog which of these are real field keys before
    parsing, instead of loading every key of a large catalog per query.
    """
    return {m.group(1).lower() for m in _FIELD_KEY.finditer(clean_text(text))}


def is_id_like(token: str) -> bool:
    """Whether ``token`` is shaped like a work-item/ADR id, a UUID or a ULID."""
    if _DISPLAY_ID.fullmatch(token) or _UUID.fullmatch(token):
        return True
    # A ULID is 26 base32 characters; demanding a digit keeps long words out.
    return bool(_ULID.fullmatch(token)) and any(ch.isdigit() for ch in token)


def has_word_chars(text: str) -> bool:
    """Whether ``text`` holds a letter or digit, i.e. something FTS5 would index.

    unicode61 indexes letters and numbers and treats the rest (punctuation,
    symbols, emoji) as separators, so a token without either matches nothing.
    """
    return any(ch.isalnum() for ch in text)


def normalize_filters(*sources: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    """Merge filter mappings into lower-cased key -> distinct lower-cased values.

    Lower-casing matches the catalog's ``fields`` table, which stores keys and
    values lower-cased so filters are case-insensitive. Keys are AND-ed,
    values of one key OR-ed.
    """
    merged: dict[str, list[str]] = {}
    for source in sources:
        for key, values in (source or {}).items():
            bucket = merged.setdefault(key.strip().lower(), [])
            for value in ([values] if isinstance(values, str) else values):
                norm = value.strip().lower()
                if norm not in bucket:
                    bucket.append(norm)
    return {k: v for k, v in merged.items() if k and v}


def parse_query(text: str, known_fields: Collection[str]) -> ParsedQuery:
    """Split ``text`` into terms, phrases, exclusions, filters and ids.

    Args:
        text: anything a user typed; never rejected.
        known_fields: field keys present in the catalog (compared lower-cased).

    Returns:
        The parsed query; ``text`` keeps everything but the inline filters.
    """
    text = clean_text(text)
    known = {k.lower() for k in known_fields}
    kept: list[str] = []
    positive: list[str] = []
    terms: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    filters: dict[str, list[str]] = {}
    ids: list[str] = []
    for match in _TOKEN.finditer(text):
        if _take_filter(match, known, filters):
            continue
        kept.append(match.group(0))
        _collect_ids(match.group(0), ids)
        words, quoted = _split_token(match)
        if match.group("neg") is not None:
            excluded.extend(words + quoted)
        else:
            terms.extend(words)
            phrases.extend(quoted)
            positive.append(_unmarked(match))
    return ParsedQuery(text=" ".join(kept), positive=" ".join(p for p in positive if p),
                       terms=terms, phrases=phrases, excluded=excluded,
                       filters=normalize_filters(filters), ids=ids)


def _split_token(match: re.Match[str]) -> tuple[list[str], list[str]]:
    """The bare words and quoted phrases of one raw token, dropping punctuation-only parts."""
    phrase = match.group("phrase")
    if phrase is not None:
        return [], [phrase.strip()] if has_word_chars(phrase) else []
    if match.group("key") is not None:  # unknown_key:"quoted value": a word and a phrase
        value = match.group("qvalue")
        return [match.group("key")], [value.strip()] if has_word_chars(value) else []
    word = _strip_edges(match.group("word"))
    return ([word] if has_word_chars(word) else []), []


def _unmarked(match: re.Match[str]) -> str:
    """One kept, non-excluded token as plain words: no phrase quotes, no prefix star."""
    if match.group("phrase") is not None:
        return match.group("phrase").strip()
    if match.group("key") is not None:
        return f"{match.group('key')}:{match.group('qvalue').strip()}"
    return str(match.group("word")).rstrip("*")


def _take_filter(match: re.Match[str], known: set[str], filters: dict[str, list[str]]) -> bool:
    """Record ``match`` as a filter if it is ``known_key:value``; say whether it was."""
    if match.group("neg") is not None:
        return False  # negated filters are not supported: "-type:adr" stays text
    key, value = match.group("key"), match.group("qvalue")
    if key is None:
        key, sep, value = (match.group("word") or "").partition(":")
        value = value.strip(_EDGE_PUNCT)
        if not sep:
            return False
    if key.lower() not in known or not value.strip():
        return False
    filters.setdefault(key.lower(), []).append(value.strip())
    return True


def _collect_ids(raw: str, ids: list[str]) -> None:
    """Append id-shaped pieces of ``raw`` (split on punctuation around them) to ``ids``;
    an ``ID@uidprefix`` stays one piece."""
    for match in _ID_AT_UID.finditer(raw):
        if match.group(0).upper() not in (i.upper() for i in ids):
            ids.append(match.group(0))
        raw = raw.replace(match.group(0), " ")
    for piece in re.split(r"[\s\"'(),;:\[\]{}<>!?*@#]+", raw):
        piece = piece.strip(_EDGE_PUNCT + "-")
        if piece and is_id_like(piece) and piece.upper() not in (i.upper() for i in ids):
            ids.append(piece)


def _strip_edges(word: str) -> str:
    """Drop sentence punctuation around a word, keeping a trailing prefix ``*``."""
    star = word.endswith("*")
    core = word.rstrip("*").strip(_EDGE_PUNCT)
    return f"{core}*" if star and core else core

