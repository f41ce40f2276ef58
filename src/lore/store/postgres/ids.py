r"""The id lookup forms (``lore.store.lookups.ID_FORMS``) as PostgreSQL answers them: index lookups.

One database may hold hundreds of thousands of documents of many roots, and
most id-shaped tokens in prose ("IL-6", "TDP-43") name none of them; the
suffix, uid-prefix and file-stem forms were ``LIKE`` scans of every document
of the root, paid by each such token. Schema 4 (``lore.store.postgres.schema``)
indexes what each form compares, and each form below is written so that its
index answers it, with exactly the documents the scans found:

- ``suffix``: ``lower(doc_id)`` ends with ``-`` + ``lower(candidate)`` exactly when
  its reverse starts with the candidate's, reversed, and ``-``: a prefix range
  of ``reverse(lower(doc_id)) text_pattern_ops``, the pattern escaped after
  reversing (``\``, ``%``, ``_`` are literal, as they were);
- ``uid_prefix`` and ``id_at_uid``'s uid: a prefix range of
  ``lower(uid) text_pattern_ops`` (whatever the database's collation);
- ``stem``: ``lower(path) LIKE '%/' || lower(stem) || '.%' OR lower(path) LIKE
  lower(stem) || '.%'`` holds exactly when ``lower(stem)`` is one of the generated
  ``path_stems``, every text of ``lower(path)`` between a '/' (or the start) and
  a later '.' (each after its root's id and ``:``, so a stem every root has finds
  only this root's), a GIN index; the whole path compares through
  ``lower(path)``'s index. Stems compare without case since schema 5, as
  SQLite's ``LIKE`` compares them (``readme`` finds ``notes/README.md``);
- ``exact``: ``lower(doc_id)`` and ``lower(uid)``, indexed since schema 1.

Case folds through the database's own ``lower()`` on both sides, in every form
(it follows the database's locale, so no fold is assumed here: on ASCII it folds
as SQLite does; beyond ASCII, under a locale other than "C", it folds more).
"""

from __future__ import annotations

_ESCAPED = r"replace(replace(replace({}, '\', '\\'), '%%', '\%%'), '_', '\_')"

# form -> (condition on documents d, which of (candidate, id part, escaped pattern) it binds)
_FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "exact": ("(lower(d.doc_id) = lower(%s) OR lower(d.uid) = lower(%s))",
              ("candidate", "candidate")),
    "id_at_uid": ("(lower(d.doc_id) = lower(%s) AND lower(d.uid) LIKE lower(%s) || '%%')",
                  ("main", "escaped")),
    "suffix": ("reverse(lower(d.doc_id)) LIKE "
               + _ESCAPED.format("reverse(lower(%s))") + " || '-%%'", ("candidate",)),
    "uid_prefix": ("lower(d.uid) LIKE lower(%s) || '%%'", ("escaped",)),
    "stem": ("(lower(d.path) = lower(%s) OR d.path_stems @> ARRAY[lower(%s::text)])",
             ("candidate", "rooted")),
}


def id_condition(candidate: str, form: str, root_id: int) -> tuple[str, list[object]]:
    """The condition on ``lore_documents d`` selecting what ``candidate`` names in
    ``form``, and its parameters.

    ``root_id`` is the root whose documents are looked up (the caller also
    restricts ``d.root_id``). ``id_at_uid``'s candidate is ``ID@uid-prefix``
    (without a uid prefix, its uid must start with the whole candidate, as schema
    3's lookup had it); the other forms take it whole.
    """
    main, _, tail = candidate.partition("@") if form == "id_at_uid" else (candidate, "", "")
    pattern = tail or candidate
    values = {"candidate": candidate, "main": main, "rooted": f"{root_id}:{candidate}",
              "escaped": pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")}
    condition, binds = _FORMS[form]
    return condition, [values[name] for name in binds]
