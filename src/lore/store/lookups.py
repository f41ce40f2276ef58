"""SQLite lookups behind ids and filters: documents by any id form, field keys and values.

Ids, in the forms people type (``lore.search.idmatch`` decides which to try):

- ``exact``: ``doc_id`` or ``uid``, case-insensitive (the NOCASE indexes);
- ``id_at_uid``: ``KABSD-TSK-0060@019b8f52``, the id of a file whose uid
  starts with the part after ``@`` (how links name one of several files
  sharing an id);
- ``suffix``: an id without its product prefix (``TSK-0350``) or the number
  alone (``0350``): ids ending in ``-`` + the candidate;
- ``uid_prefix``: the first 8+ characters of a uid;
- ``stem``: the file name without extension, or the path.

The suffix, prefix and stem forms scan ``documents`` with ``LIKE``
(case-insensitive for ASCII, as ids are); they run only when the exact form
found nothing, and, inside a read snapshot, only when ``lore.store.id_names``
(built from ``id_names`` once per catalog state) says the candidate may match.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from lore.store.fields import field_spelling

# (sql, params) of a subquery selecting allowed documents.id values.
DocFilter = tuple[str, list[str]]

ID_FORMS = ("exact", "id_at_uid", "suffix", "uid_prefix", "stem")

_WHERE = {
    "exact": "(d.doc_id = ?1 COLLATE NOCASE OR d.uid = ?1 COLLATE NOCASE)",
    "id_at_uid": "(d.doc_id = ?1 COLLATE NOCASE AND d.uid LIKE ?2 || '%' ESCAPE '\\')",
    "suffix": "d.doc_id LIKE '%-' || ?2 ESCAPE '\\'",
    "uid_prefix": "d.uid LIKE ?2 || '%' ESCAPE '\\'",
    "stem": ("(lower(d.path) = lower(?1) OR d.path LIKE '%/' || ?2 || '.%' ESCAPE '\\'"
             " OR d.path LIKE ?2 || '.%' ESCAPE '\\')"),
}


def lookup_sql(form: str, doc_filter: DocFilter | None) -> str:
    """SQL finding one representative chunk of each document matching ``form``.

    Parameters: ?1 the candidate (for ``id_at_uid``: the id), ?2 the escaped
    pattern part (the stem, suffix or uid prefix), ?3 the JSON preference
    list, then the filter's own parameters (plain ``?``, numbered on after ?3).
    """
    restrict = f" AND d.id IN ({doc_filter[0]})" if doc_filter is not None else ""
    return ("SELECT (SELECT c.id FROM chunks c WHERE c.document_id = d.id ORDER BY"
            " coalesce((SELECT p.key FROM json_each(?3) p WHERE p.value = c.id), 1e18),"
            " c.ordinal LIMIT 1) AS chunk_id, d.doc_id"
            f" FROM documents d WHERE {_WHERE[form]}{restrict} ORDER BY d.path")


def find_ids(conn: sqlite3.Connection, candidate: str, form: str, *,
             doc_filter: DocFilter | None, prefer: Sequence[int]) -> list[tuple[int, str]]:
    """(representative chunk id, doc id) of the documents ``candidate`` names in ``form``.

    The chunk is the earliest of the document's chunks in ``prefer``, else its first.
    """
    main, _, tail = candidate.partition("@") if form == "id_at_uid" else (candidate, "", "")
    pattern = tail if form == "id_at_uid" else candidate
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    extra = doc_filter[1] if doc_filter is not None else []
    rows = conn.execute(lookup_sql(form, doc_filter),
                        (main, escaped, json.dumps([int(i) for i in prefer]), *extra))
    return [(int(chunk), str(doc_id)) for chunk, doc_id in rows if chunk is not None]


def id_names(conn: sqlite3.Connection) -> list[tuple[str | None, str | None, str]]:
    """Every document's (doc id, uid, path): what the id forms compare against."""
    return [(doc_id, uid, str(path)) for doc_id, uid, path in
            conn.execute("SELECT doc_id, uid, path FROM documents")]


def field_keys(conn: sqlite3.Connection) -> list[str]:
    """Every field key of some document, sorted."""
    return [str(k) for (k,) in conn.execute("SELECT DISTINCT key FROM fields ORDER BY key")]


def unknown_field_values(conn: sqlite3.Connection, key: str, values: Sequence[str]) -> list[str]:
    """Those of ``values`` (lower-cased, as stored) that no document has for ``key``."""
    rows = conn.execute("SELECT value FROM json_each(?) WHERE value NOT IN"
                        " (SELECT value FROM fields WHERE key = ?)", (json.dumps(list(values)), key))
    return [str(v) for (v,) in rows]


def field_values(conn: sqlite3.Connection, key: str, *, limit: int) -> tuple[list[str], int]:
    """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
    total = conn.execute("SELECT count(DISTINCT value) FROM fields WHERE key = ?",
                         (key,)).fetchone()[0]
    values = [str(v) for (v,) in conn.execute(
        "SELECT DISTINCT value FROM fields WHERE key = ? ORDER BY value LIMIT ?", (key, limit))]
    return values, int(total)


def field_spellings(conn: sqlite3.Connection, key: str, values: Sequence[str]) -> dict[str, str]:
    """Each of ``values`` of ``key`` (lower-cased, as stored) as one document holding it
    writes it; a value no document holds is left out."""
    rows = conn.execute(
        "SELECT f.value, d.metadata FROM fields f JOIN documents d ON d.id = f.document_id"
        " WHERE f.key = ? AND f.value IN (SELECT value FROM json_each(?)) GROUP BY f.value",
        (key, json.dumps(list(values))))
    return {str(value): field_spelling(json.loads(metadata), key, str(value))
            for value, metadata in rows}
