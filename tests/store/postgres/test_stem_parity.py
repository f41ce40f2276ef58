"""A ``lore_english`` root in PostgreSQL holds the local index's terms: the same lexemes
in the same documents, hence the same BM25 scores, where Snowball's porter (PostgreSQL's
own) and FTS5's part (``ms``, ``pathology``, ``µm``, a prefix's stem). Expected values
come from the SQLite catalog's FTS5 tables, not from the code under test."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import both_stores

from lore.documents.model import Chunk, Document
from lore.eval.beir import iter_corpus, load_queries
from lore.search.fts import match_terms, proximity_pairs, quote_fts
from lore.search.query import parse_query
from lore.store.base import Store
from lore.store.catalog import Catalog
from lore.store.postgres import PostgresStore

# Words the two porters stem differently, in several cases and forms, beside plain ones.
VOCABULARY = ("MS", "ms", "Ms", "vs", "5s", "1990s", "pathology", "Pathologies", "terminology",
              "incredibly", "µm", "15µm", "μm", "café", "CAFE", "naïve", "e\u0301tude", "IL6",
              "TNF-α", "重構計画の話", "cell", "cells", "running", "runner", "tumour", "the")
QUERIES = ["ms pathology", "MS patients", "15 µm cells", "μm", "Pathologies of the cell",
           "terminology vs pathology", "étude naive café", "IL6 TNF-α", "計画", "1990s"]
PREFIXES = [[quote_fts("pathologi") + "*"], [quote_fts("running") + "*"], [quote_fts("µ") + "*"]]
WEIGHTS = (5.0, 2.0, 1.0)


def _document(n: int, title: str, text: str) -> tuple[Document, list[Chunk]]:
    doc = Document(path=f"d/{n:04}.md", doc_id=f"D-{n}", uid=None, title=title, doctype="Note",
                   metadata={}, links=(), body=text, content_hash=str(n), size=len(text),
                   mtime_ns=0)
    return doc, [Chunk(0, (title,), text, "section", len(text.split()))]


def _random_corpus() -> Iterator[tuple[Document, list[Chunk]]]:
    rng = random.Random(3)
    for n in range(80):
        text = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(2, 40)))
        yield _document(n, " ".join(rng.choice(VOCABULARY) for _ in range(2)), text)


@pytest.fixture(scope="module")
def random_stores(pg_url: str) -> Iterator[tuple[Catalog, PostgresStore]]:
    yield from both_stores(pg_url, _random_corpus())


@pytest.fixture(scope="module")
def scifact_stores(pg_url: str, scifact_dir: Path) -> Iterator[tuple[Catalog, PostgresStore]]:
    docs = itertools.islice(iter_corpus(scifact_dir), 150)
    yield from both_stores(pg_url, (_document(n, d.title, d.text) for n, d in enumerate(docs)))


def _vocabularies(local: Catalog, remote: PostgresStore, table: str, postings: str
                  ) -> tuple[dict[str, int], dict[str, int]]:
    """term -> rows holding it, in FTS5 (``fts5vocab``) and in PostgreSQL's postings."""
    local.conn.execute(f"CREATE VIRTUAL TABLE temp.v_{table} USING fts5vocab(main, {table}, row)")
    fts5 = dict(local.conn.execute(f"SELECT term, doc FROM temp.v_{table}").fetchall())
    local.conn.execute(f"DROP TABLE temp.v_{table}")
    pg = dict(remote._conn.execute(f"SELECT lexeme, count(*) FROM {postings} WHERE root_id = %s"
                                   " GROUP BY lexeme", (remote._root_id,)).fetchall())
    return fts5, pg


@pytest.mark.parametrize("corpus", ["random_stores", "scifact_stores"])
def test_every_term_is_held_by_the_same_rows(corpus: str, request: pytest.FixtureRequest) -> None:
    local, remote = request.getfixturevalue(corpus)
    for table, postings in (("documents_fts", "lore_document_terms"),
                            ("chunks_fts", "lore_chunk_terms")):
        fts5, pg = _vocabularies(local, remote, table, postings)
        assert len(fts5) > 20
        assert pg == fts5, sorted(set(pg.items()) ^ set(fts5.items()))[:20]


def _ranked(store: Store, terms: list[str], pairs: list[str], per_document: bool
            ) -> list[tuple[str, float]]:
    ranked = store.keyword_ranking(terms, weights=WEIGHTS, limit=10, restriction=None,
                                   per_document=per_document, share=0.5, pairs=pairs,
                                   pair_weight=0.1)
    rows = store.hit_rows([cid for cid, _ in ranked])
    return [(rows[cid].path, score) for cid, score in ranked]


def _assert_same_ranking(local: Store, remote: Store, terms: list[str], pairs: list[str]) -> None:
    for per_document in (True, False):
        expected, actual = (_ranked(s, terms, pairs, per_document) for s in (local, remote))
        assert expected, terms
        assert [p for p, _ in actual] == [p for p, _ in expected], terms
        assert [s for _, s in actual] == pytest.approx([s for _, s in expected], rel=1e-6)


@pytest.mark.parametrize("query", QUERIES)
def test_queries_rank_and_score_as_fts5s(random_stores: tuple[Catalog, PostgresStore],
                                         query: str) -> None:
    parsed = parse_query(query, ())
    _assert_same_ranking(*random_stores, match_terms(parsed), proximity_pairs(parsed))


@pytest.mark.parametrize("terms", PREFIXES, ids=lambda t: t[0])
def test_a_prefix_is_stemmed_as_fts5_stems_it(random_stores: tuple[Catalog, PostgresStore],
                                              terms: list[str]) -> None:
    _assert_same_ranking(*random_stores, terms, [])


def test_scifact_claims_rank_and_score_as_fts5s(scifact_stores: tuple[Catalog, PostgresStore],
                                                scifact_dir: Path) -> None:
    claims = list(load_queries(scifact_dir).values())[:40]
    for claim in claims:
        parsed = parse_query(claim, ())
        _assert_same_ranking(*scifact_stores, match_terms(parsed), proximity_pairs(parsed))
