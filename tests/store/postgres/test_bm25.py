"""PostgreSQL's BM25 ranks as the local index's FTS5 does: same rows, same scores.

The same random corpus goes into a SQLite catalog and a PostgreSQL root; every
query is ranked by both, per chunk and per document (document-level BM25
mixed with the best chunk's), with and without a restriction. Expected values
come from SQLite's FTS5, not from the code under test.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator

import pytest
from conftest import both_stores, pg_store

from lore.documents.model import Chunk, Document
from lore.index import Index
from lore.migrate import copy_index
from lore.search.fts import match_terms, proximity_pairs, quote_fts
from lore.search.query import parse_query
from lore.store.base import Restriction, Store
from lore.store.postgres import PostgresStore

# Words Porter stems the same in FTS5 and PostgreSQL, inflected forms included.
VOCABULARY = ("cache", "caches", "vector", "vectors", "store", "stored", "index", "indexing",
              "search", "query", "queries", "token", "model", "models", "embedding", "sidecar",
              "backlog", "sqlite", "postgres", "ranking", "chunk", "chunks", "the", "of")
# CJK words as lore.search.fts writes them: bigrams, Chinese folded to Simplified.
TERMS = [[quote_fts("cache")], [quote_fts("vectors"), quote_fts("store")],
         [quote_fts("cache"), quote_fts("cache"), quote_fts("sidecar")],
         [quote_fts("quer") + "*"], [quote_fts("the"), quote_fts("ranking")],
         [quote_fts("café"), quote_fts("chunk")], match_terms(parse_query("重構", ())),
         match_terms(parse_query("話", ())), [quote_fts("nothing")]]
# Phrases (several words in one term: "TSK-0042" is "tsk" "0042", a CJK word its
# bigrams, as lore.search.fts writes it), a prefix phrase, and a phrase repeated.
PHRASES = [[quote_fts("embedding model")], [quote_fts("TSK-0042")],
           match_terms(parse_query("計画の話", ())), match_terms(parse_query("溫柔提醒", ())),
           [quote_fts("vector st") + "*", quote_fts("cache")],
           [quote_fts("the cache"), quote_fts("the cache"), quote_fts("of")]]
# Queries as people type them: their neighbouring words are the pairs (term proximity).
NATURAL = ["vector store", "the vector store of the cache", "caches stored in the sidecar",
           "embedding model ranking", "search queries token", "chunk chunks chunk",
           "index the backlog in sqlite and postgres", "TSK-0042 done", "model"]
TRADITIONAL, SIMPLIFIED = " 開發時溫柔提醒，不是嚴格執行。", " 开发时温柔提醒。"
WEIGHTS = (5.0, 2.0, 1.0)


def _corpus(seed: int, documents: int) -> list[tuple[Document, list[Chunk]]]:
    rng = random.Random(seed)
    out = []
    for n in range(documents):
        sections = []
        for _ in range(rng.randint(1, 4)):
            text = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 60)))
            if rng.random() < 0.2:
                text += rng.choice([" TSK-0042 done.", " Café-chunk!", " 重構計画の話",
                                    TRADITIONAL, SIMPLIFIED])
            sections.append(((rng.choice(VOCABULARY).title(),), text))
        title = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 3)))
        body = "\n\n".join(f"## {h[0]}\n\n{text}" for h, text in sections)
        doc = Document(path=f"d/{n:03}.md", doc_id=f"D-{n}", uid=None, title=title,
                       doctype="Note", metadata={"state": "Done" if n % 3 else "Open"},
                       links=(), body=body, content_hash=str(n), size=len(body), mtime_ns=0)
        out.append((doc, [Chunk(i, h, text, "section", len(text.split()))
                          for i, (h, text) in enumerate(sections)]))
    return out


@pytest.fixture(scope="module")
def stores(pg_url: str) -> Iterator[tuple[Store, PostgresStore]]:
    yield from both_stores(pg_url, _corpus(7, 120))


def _by_path(store: Store, ranked: list[tuple[int, float]]) -> list[tuple[str, int, float]]:
    rows = store.hit_rows([cid for cid, _ in ranked])
    return [(rows[cid].path, rows[cid].ordinal, score) for cid, score in ranked]


@pytest.mark.parametrize("per_document", [True, False])
@pytest.mark.parametrize("restricted", [False, True])
@pytest.mark.parametrize("terms", TERMS, ids=lambda t: " ".join(t))
def test_rankings_and_scores_equal_fts5s(stores: tuple[Store, PostgresStore], terms: list[str],
                                         per_document: bool, restricted: bool) -> None:
    expected, actual = _ranked_by_both(stores, terms, per_document=per_document,
                                       restricted=restricted)
    _assert_same(expected, actual)
    if terms != [quote_fts("nothing")]:
        assert expected, "the query should match something in the corpus"


def _ranked_by_both(stores: tuple[Store, ...], terms: list[str], *,
                    per_document: bool, restricted: bool = False, pairs: list[str] | None = None,
                    pair_weight: float = 0.0) -> list[list[tuple[str, int, float]]]:
    restriction = Restriction(filters={"state": ("done",)}) if restricted else None
    return [_by_path(s, s.keyword_ranking(terms, weights=WEIGHTS, limit=15,
                                          restriction=restriction, per_document=per_document,
                                          share=0.5, pairs=pairs or [], pair_weight=pair_weight))
            for s in stores]


def _assert_same(expected: list[tuple[str, int, float]],
                 actual: list[tuple[str, int, float]]) -> None:
    assert [(p, o) for p, o, _ in actual] == [(p, o) for p, o, _ in expected]
    assert [s for _, _, s in actual] == pytest.approx([s for _, _, s in expected], rel=1e-6)


@pytest.mark.parametrize("per_document", [True, False])
@pytest.mark.parametrize("terms", PHRASES, ids=lambda t: " ".join(t))
def test_phrases_rank_and_score_as_fts5s(stores: tuple[Store, PostgresStore],
                                         terms: list[str], per_document: bool) -> None:
    expected, actual = _ranked_by_both(stores, terms, per_document=per_document)
    assert expected, "the phrase should match something in the corpus"
    _assert_same(expected, actual)


@pytest.mark.parametrize("restricted", [False, True])
@pytest.mark.parametrize("per_document", [True, False])
@pytest.mark.parametrize("query", NATURAL)
def test_term_proximity_ranks_and_scores_as_sqlites(stores: tuple[Store, PostgresStore],
                                                    query: str, per_document: bool,
                                                    restricted: bool) -> None:
    parsed = parse_query(query, ())
    terms, pairs = match_terms(parsed), proximity_pairs(parsed)
    expected, actual = _ranked_by_both(stores, terms, per_document=per_document,
                                       restricted=restricted, pairs=pairs, pair_weight=0.5)
    assert expected
    _assert_same(expected, actual)


@pytest.mark.parametrize("per_document", [True, False])
def test_term_proximity_lifts_the_rows_holding_the_words_side_by_side(
        stores: tuple[Store, PostgresStore], per_document: bool) -> None:
    terms, pairs = [quote_fts("vector"), quote_fts("store")], [quote_fts("vector store")]
    plain, near = (_ranked_by_both(stores, terms, per_document=per_document, pairs=pairs,
                                   pair_weight=weight) for weight in (0.0, 0.5))
    assert near[1] != plain[1]
    _assert_same(near[0], near[1])
    _assert_same(plain[0], plain[1])


@pytest.mark.parametrize("query", ["温柔提醒", "溫柔提醒", "开发", "開發"])
def test_chinese_in_either_script_finds_both_in_both_stores(
        stores: tuple[Store, PostgresStore], query: str) -> None:
    written = {doc.path for doc, chunks in _corpus(7, 120)
               if any(TRADITIONAL in c.text or SIMPLIFIED in c.text for c in chunks)}
    traditional = {doc.path for doc, chunks in _corpus(7, 120)
                   if any(TRADITIONAL in c.text for c in chunks)}
    assert written > traditional > set()      # both scripts are in the corpus
    for store in stores:
        ranked = store.keyword_ranking(match_terms(parse_query(query, ())), weights=WEIGHTS,
                                       limit=1000, restriction=None)
        assert {path for path, _, _ in _by_path(store, ranked)} == written, store


def test_postings_are_rewritten_when_a_document_changes(stores: tuple[Store, PostgresStore]
                                                        ) -> None:
    _, remote = stores
    doc, chunks = _corpus(7, 1)[0]
    term = [quote_fts("zebra")]
    before = remote.keyword_ranking(term, weights=WEIGHTS, limit=5, restriction=None,
                                    per_document=True)
    edited = dataclasses.replace(doc, body=doc.body + " zebra", content_hash="z")
    remote.replace_document(edited, [Chunk(0, ("Zoo",), "a zebra", "section", 2)], "test")
    after = remote.keyword_ranking(term, weights=WEIGHTS, limit=5, restriction=None,
                                   per_document=True)
    remote.replace_document(doc, chunks, "test")
    assert before == [] and len(after) == 1
    assert remote.keyword_ranking(term, weights=WEIGHTS, limit=5, restriction=None) == []


def test_a_version_1_database_gains_postings_that_rank_as_fresh_ones(pg_url: str) -> None:
    import uuid

    from psycopg.conninfo import make_conninfo

    from lore.store.postgres.connection import connect
    from lore.store.postgres.schema import MIGRATIONS, migrate

    name = f"lore_v1_{uuid.uuid4().hex[:8]}"
    admin = connect(pg_url)
    admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(pg_url, dbname=name)
    try:
        conn = connect(url)
        (version, steps), = MIGRATIONS[:1]
        conn.execute(str(steps[0]))
        conn.execute("CREATE TABLE lore_schema(version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO lore_schema(version) VALUES (%s)", (version,))
        (root,) = conn.execute("INSERT INTO lore_roots(name, text_config, created_at) VALUES"
                               " ('old', 'english', 0) RETURNING id").fetchone()
        for n, (doc, chunks) in enumerate(_corpus(3, 12)):
            (doc_row,) = conn.execute(
                "INSERT INTO lore_documents(root_id, path, doc_id, title, doctype, metadata,"
                " body, content_hash, size, mtime_ns, chunker_version, indexed_at) VALUES"
                " (%s, %s, %s, %s, 'Note', '{}', %s, %s, 0, 0, 'test', 0) RETURNING id",
                (root, doc.path, doc.doc_id, doc.title, doc.body, str(n))).fetchone()
            for c in chunks:
                conn.execute("INSERT INTO lore_chunks(document_id, root_id, ordinal, kind,"
                             " heading_path, text, token_estimate, tsv, token_count) VALUES"
                             " (%s, %s, %s, 'section', %s, %s, 0, '', 0)",
                             (doc_row, root, c.ordinal, f'["{c.heading_path[0]}"]', c.text))
        migrate(conn)
        conn.close()
        old, fresh = PostgresStore.open(url, "old"), PostgresStore.open(url, "fresh",
                                                                          text_config="english")
        for doc, chunks in _corpus(3, 12):
            fresh.replace_document(doc, chunks, "test")
        for terms in TERMS:
            ranked = [_by_path(s, s.keyword_ranking(terms, weights=WEIGHTS, limit=10,
                                                    restriction=None, per_document=True))
                      for s in (old, fresh)]
            assert ranked[0] == ranked[1]
        assert old.keyword_ranking(['"cache"'], weights=WEIGHTS, limit=3, restriction=None)
        old.close()
        fresh.close()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_a_version_2_database_gets_folded_chinese_postings(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from psycopg.conninfo import make_conninfo

    from lore.documents.cjk import cjk_runs, run_tokens
    from lore.store.postgres import schema, terms
    from lore.store.postgres.connection import connect

    name = f"lore_v2_{uuid.uuid4().hex[:8]}"
    admin = connect(pg_url)
    admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(pg_url, dbname=name)
    corpus = _corpus(11, 40)
    simplified = match_terms(parse_query("温柔提醒", ()))
    try:
        with monkeypatch.context() as old_lore:   # the lore before folding (its postings
            two, steps = schema.MIGRATIONS[1]      # with today's positions)
            old_lore.setattr(schema, "MIGRATIONS", [schema.MIGRATIONS[0],
                                                   (two, [*steps, schema.POSITIONS_V5])])
            old_lore.setattr(schema, "LATEST_VERSION", 2)
            old_lore.setattr(terms, "cjk_index_text", lambda text: " ".join(
                t for run in cjk_runs(text) for t in run_tokens(run)))
            old = PostgresStore.open(url, "old", text_config="english")
            for doc, chunks in corpus:
                old.replace_document(doc, chunks, "test")
            found = {p for p, _, _ in _by_path(old, old.keyword_ranking(
                simplified, weights=WEIGHTS, limit=100, restriction=None))}
            old.close()
        def writing(*texts: str) -> set[str]:
            return {d.path for d, cs in corpus if any(t in c.text for t in texts for c in cs)}

        assert found == writing(SIMPLIFIED) < writing(SIMPLIFIED, TRADITIONAL)
        rewritten: list[int] = []
        rewrite = terms.index_terms
        monkeypatch.setattr(terms, "index_terms", lambda conn, root, config, document, *rest: (
            rewritten.append(document), rewrite(conn, root, config, document, *rest)))
        upgraded = PostgresStore.open(url, "old")
        assert len(rewritten) == len(set(rewritten)) == len(corpus)   # each document once
        fresh = PostgresStore.open(url, "fresh", text_config="english")
        for doc, chunks in corpus:
            fresh.replace_document(doc, chunks, "test")
        for query in (*TERMS, simplified, match_terms(parse_query("溫柔", ()))):
            ranked = [_by_path(s, s.keyword_ranking(query, weights=WEIGHTS, limit=10,
                                                    restriction=None, per_document=True))
                      for s in (upgraded, fresh)]
            assert ranked[0] == ranked[1], query
        assert {p for p, _, _ in _by_path(upgraded, upgraded.keyword_ranking(
            simplified, weights=WEIGHTS, limit=100, restriction=None))} == writing(
                SIMPLIFIED, TRADITIONAL)
        upgraded.close()
        fresh.close()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def _agree(expected: list[tuple[str, int, float]], actual: list[tuple[str, int, float]]) -> bool:
    """The same scores rank by rank (0.1 %) and the same rows, but in any order among
    rows of one score (copies of a document: the two sums round them apart in the last
    digit, either way); a tie the limit cuts may show different members."""
    if len(actual) != len(expected) or any(abs(a - e) > 1e-3 * abs(e) for (_, _, a), (_, _, e)
                                           in zip(actual, expected)):
        return False

    def ties(rows: list[tuple[str, int, float]]) -> list[set[tuple[str, int]]]:
        groups: dict[str, set[tuple[str, int]]] = {}
        for path, ordinal, score in rows:
            groups.setdefault(f"{score:.9g}", set()).add((path, ordinal))
        return list(groups.values())[:-1]
    return ties(actual) == ties(expected)


@pytest.mark.slow
def test_kano_ranks_as_the_local_store_with_term_proximity(kano_index: Index,
                                                           pg_url: str) -> None:
    """kano copied into PostgreSQL: every 25th document's title as a query (ids, CJK and
    all), per document and per chunk, with term proximity (lore's weight, 0.1). Where
    the pairs change SQLite's ranking, PostgreSQL's is SQLite's: the same rows in the
    same order (rows of one score, copies of a document, in either order), scores within
    0.1 %, on every one (42 at the time of writing; a store ignoring the pairs agrees on
    none)."""
    local, remote = kano_index._store, pg_store(pg_url)
    try:
        copy_index(local, remote)
        lifted, agreed = 0, 0
        for title in [t.title for t in local.document_identities()][::25]:
            parsed = parse_query(title, ())
            terms, pairs = match_terms(parsed), proximity_pairs(parsed)
            for per_document in (True, False):
                plain, = _ranked_by_both((local,), terms, per_document=per_document)
                near = _ranked_by_both((local, remote), terms, pairs=pairs,
                                       per_document=per_document, pair_weight=0.1)
                if [r[:2] for r in near[0]] != [r[:2] for r in plain]:
                    lifted += 1
                    agreed += _agree(near[0], near[1])
        assert lifted >= 12 and agreed == lifted, (agreed, lifted)
    finally:
        remote.drop_root()
        remote.close()
