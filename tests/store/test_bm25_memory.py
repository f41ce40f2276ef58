"""The in-memory copy of the FTS5 tables ranks exactly as FTS5 does.

Every ranking is asked twice, of FTS5 (``lore.store.bm25``) and of the copy
(``lore.store.bm25_memory``), on the same catalog file: the rows, their order,
the chunk standing for each document and the scores must agree, for phrases,
prefixes, CJK bigrams, repeated terms, diacritics, restrictions (filters and
exclusions), empty answers and every limit; on random corpora and on the real
kano backlog.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.documents.model import Chunk, Document
from lore.index import Index
from lore.search.fts import match_terms, proximity_pairs
from lore.search.query import parse_query
from lore.store import bm25
from lore.store.base import Restriction
from lore.store.bm25_memory import KeywordCopy, load_copy
from lore.store.catalog import Catalog
from lore.store.connection import connect_read_only
from lore.store.filter_sql import restriction_sql

WEIGHTS = (3.0, 2.0, 1.0)
DOCS = [  # title, doctype, [(headings, text)]
    ("Cache eviction policy", "adr", [(("Context",), ("The cache evicts the least recently "
                                      "used entry. Cache misses cost a disk read.")),
                                     (("Decision", "Eviction"), ("Evict by size and age; the "
                                      "cache cache cache keeps hot entries."))]),
    ("Café crème résumé", "note", [((), ("Le café est très chaud. Cafe and café match "
                                   "alike once diacritics are removed."))]),
    ("日本語の検索", "note", [(("検索",), "日本語の文章を検索する。全文検索エンジン。"),
                              ((), "中文分词 and mixed 検索 text")]),
    ("Running runners run", "task", [(("Plan",), ("She runs; they ran; running is fun. "
                                      "Runtime errors at run time.")),
                                     ((), "The runner ran the run-book step by step.")]),
    ("IL-10 and il 10 signalling", "task", [((), ("Interleukin IL-10 signalling: il 10 "
                                             "pathway, IL10 is written without a hyphen too."))]),
    ("溫柔提醒", "note", [(("批次檢查",), "開發時常常先上車後補票：溫柔提醒，不是嚴格執行。")]),
    ("批次检查", "note", [((), "批次检查孤儿提交并温柔提醒。")]),
    ("Empty body", "bug", [((), "")]),
    ("Backlog grooming", "bug", [(("Backlog",), "backlog backlog grooming of the backlog"),
                                 (("Backlog", "Notes"), "grooming notes for the backlog")]),
]
QUERIES = [
    "cache", "cache cache", "cache eviction", "evict*", "ca*", '"least recently used"',
    '"cache evicts"', "café", "cafe", "CAFÉ crème", "resume", "日本語", "検索", "検",
    "中文", '"il 10"', "il-10", "IL10 signalling", "run", "running runner", "run*",
    "runtime run-book", "backlog grooming notes", "backlog", '"backlog grooming"',
    "zzqqxxtypo", "zzqq* cache", "the", "step by step", '"step step"',
    "cache OR eviction", "hot entries -cache", "mixed 検索 text",
    "温柔提醒", "溫柔提醒", "补票", "檢", '"批次检查"', "提醒 -補票",
]


def write_docs(catalog: Catalog, docs: list[tuple[str, str, list[tuple[tuple[str, ...], str]]]]
               ) -> None:
    for i, (title, doctype, chunks) in enumerate(docs):
        body = "\n\n".join(text for _, text in chunks)
        doc = Document(path=f"d{i:03}.md", doc_id=f"d{i:03}", uid=None, title=title,
                       doctype=doctype, metadata={"type": doctype}, links=(), body=body,
                       content_hash=str(i), size=len(body), mtime_ns=0)
        catalog.replace_document(doc, [Chunk(j, heads, text, "section", len(text.split()))
                                       for j, (heads, text) in enumerate(chunks)], "test")


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Path]:
    with Catalog.open(tmp_path) as catalog:
        write_docs(catalog, DOCS)
    yield tmp_path / "catalog.sqlite"


def assert_same(path: Path, copy: KeywordCopy, query: str,
                restriction: Restriction | None = None, limits: tuple[int, ...] = (1, 3, 1000),
                share: float = 0.5, pair_weights: tuple[float, ...] = (0.0, 0.1)) -> int:
    """Both paths agree on ``query`` for every limit and proximity weight (the query's
    neighbouring words as weighted phrases); how many documents matched."""
    conn = connect_read_only(path)
    try:
        parsed = parse_query(query, ())
        terms = match_terms(parsed)
        if restriction is None and parsed.excluded:
            restriction = Restriction({}, tuple(t for t in match_terms(
                parse_query(" ".join(parsed.excluded), ()))))
        doc_filter = restriction_sql(restriction) if restriction is not None else None
        phrases = copy.phrases(terms)
        assert phrases is not None, terms
        allowed = None if doc_filter is None else copy.allowed_documents(
            [r[0] for r in conn.execute(*doc_filter)])
        pairs = proximity_pairs(parsed)
        pair_phrases = copy.phrases(pairs)
        assert pair_phrases is not None, pairs
        found = 0
        for limit, weight in itertools.product(limits, pair_weights):
            expected = bm25.rank_documents(conn, terms, weights=WEIGHTS, share=share,
                                           limit=limit, doc_filter=doc_filter, pairs=pairs,
                                           pair_weight=weight)
            got = copy.rank_documents(phrases, weights=WEIGHTS, share=share, limit=limit,
                                      allowed=allowed, pairs=pair_phrases, pair_weight=weight)
            assert got is not None
            assert [(h.document_id, h.chunk_id) for h in got] == \
                [(h.document_id, h.chunk_id) for h in expected], (query, limit)
            assert [h.score for h in got] == pytest.approx([h.score for h in expected],
                                                           rel=1e-9, abs=1e-12)
            chunk_expected = bm25.rank(conn, bm25.CHUNKS, terms, weights=(*WEIGHTS, 1.0),
                                       limit=limit, doc_filter=doc_filter, pairs=pairs,
                                       pair_weight=weight)
            chunk_got = copy.rank_chunks(phrases, weights=(*WEIGHTS, 1.0), limit=limit,
                                         allowed=allowed, pairs=pair_phrases,
                                         pair_weight=weight)
            assert chunk_got is not None
            assert [c for c, _ in chunk_got] == [c for c, _ in chunk_expected], (query, limit)
            assert [s for _, s in chunk_got] == pytest.approx(
                [s for _, s in chunk_expected], rel=1e-9, abs=1e-12)
            found = max(found, len(expected))
        return found
    finally:
        conn.close()


def copy_of(path: Path) -> KeywordCopy:
    conn = connect_read_only(path)
    try:
        copy = load_copy(conn)
    finally:
        conn.close()
    assert copy is not None
    return copy


@pytest.mark.parametrize("query", QUERIES)
def test_every_query_shape_ranks_as_fts5(small: Path, query: str) -> None:
    assert_same(small, copy_of(small), query)


def test_the_queries_do_match_and_some_match_nothing(small: Path) -> None:
    copy = copy_of(small)
    matched = {q: assert_same(small, copy, q) for q in QUERIES}
    assert matched["zzqqxxtypo"] == 0
    assert matched['"step step"'] == 0
    assert matched["café"] == matched["cafe"] >= 1      # diacritics removed both ways
    assert matched["検"] >= 1 and matched['"il 10"'] >= 1 and matched["ca*"] >= 2
    # Chinese in either script finds both notes, one Traditional, one Simplified.
    assert matched["温柔提醒"] == matched["溫柔提醒"] == matched["檢"] == 2
    assert matched['"批次检查"'] == 2
    assert matched["补票"] == matched["提醒 -補票"] == 1


def test_proximity_adds_the_pairs_bm25_on_both_paths(small: Path) -> None:
    copy = copy_of(small)
    parsed = parse_query("cache evicts", ())
    terms, pairs = match_terms(parsed), proximity_pairs(parsed)
    phrases, pair_phrases = copy.phrases(terms), copy.phrases(pairs)
    assert phrases is not None and pair_phrases is not None
    conn = connect_read_only(small)
    try:
        plain = bm25.rank_documents(conn, terms, weights=WEIGHTS, share=0.5, limit=3)
        near = bm25.rank_documents(conn, terms, weights=WEIGHTS, share=0.5, limit=3,
                                   pairs=pairs, pair_weight=0.5)
    finally:
        conn.close()
    got = copy.rank_documents(phrases, weights=WEIGHTS, share=0.5, limit=3, allowed=None,
                              pairs=pair_phrases, pair_weight=0.5)
    assert got is not None
    assert near[0].score > plain[0].score      # "cache evicts" is written in d000
    assert [h.score for h in got] == [h.score for h in near]    # the same doubles


@pytest.mark.parametrize("types", [("adr",), ("task", "bug"), ("nothing",)])
def test_filters_restrict_as_fts5_does(small: Path, types: tuple[str, ...]) -> None:
    copy = copy_of(small)
    for query in ("cache run backlog", "run*", "検索 café"):
        assert_same(small, copy, query, Restriction({"type": types}))


def test_any_share_mixes_as_fts5_does(small: Path) -> None:
    copy = copy_of(small)
    for share in (0.0, 0.3, 1.0):
        assert_same(small, copy, "cache backlog run", share=share)


def test_shapes_it_cannot_answer_exactly_are_refused(small: Path) -> None:
    copy = copy_of(small)
    assert copy.phrases(['"cache evicts"*']) is None      # a phrase with a prefix
    assert copy.phrases(['"..."']) is None                # no token at all
    assert copy.phrases(["cache"]) is None                # not an FTS5 string
    phrases = copy.phrases(['"cache"'])
    assert phrases is not None
    assert copy.rank_chunks(phrases, weights=(0.1, 1.0, 1.0, 1.0), limit=5,
                            allowed=None) is None         # 0.1 * n is not a running sum


WORDS = ["kiwi", "mango", "plum", "fig", "pear", "yam", "okra", "leek"]
words = st.lists(st.sampled_from(WORDS), min_size=0, max_size=10)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(corpus=st.lists(st.tuples(words, st.sampled_from(["adr", "task"]),
                                 st.lists(st.tuples(st.lists(st.sampled_from(WORDS),
                                                             max_size=2), words),
                                          min_size=1, max_size=3)),
                       min_size=1, max_size=10),
       queries=st.lists(st.lists(st.sampled_from([*WORDS, "ki*", "p*", "zz"]), min_size=1,
                                 max_size=5), min_size=1, max_size=4),
       phrase=st.lists(st.sampled_from(WORDS), min_size=2, max_size=3))
def test_random_corpora_rank_as_fts5(tmp_path_factory: pytest.TempPathFactory,
                                     corpus: list[tuple[list[str], str,
                                                        list[tuple[list[str], list[str]]]]],
                                     queries: list[list[str]], phrase: list[str]) -> None:
    folder = tmp_path_factory.mktemp("random")
    with Catalog.open(folder) as catalog:
        write_docs(catalog, [(" ".join(title), doctype,
                              [(tuple(heads), " ".join(text)) for heads, text in chunks])
                             for title, doctype, chunks in corpus])
    path = folder / "catalog.sqlite"
    copy = copy_of(path)
    for query in [*(" ".join(q) for q in queries), '"' + " ".join(phrase) + '" ' + phrase[0]]:
        assert_same(path, copy, query, limits=(1, 4, 100))
        assert_same(path, copy, query, Restriction({"type": ("adr",)}), limits=(2,))


@pytest.mark.slow
def test_kano_ranks_as_fts5(kano_index: Index) -> None:
    path = kano_index.index_dir / "catalog.sqlite"
    copy = copy_of(path)
    conn = connect_read_only(path)
    try:
        titles = [str(t) for (t,) in conn.execute("SELECT title FROM documents ORDER BY id")]
        bodies = [str(b) for (b,) in conn.execute("SELECT body FROM documents ORDER BY id")]
    finally:
        conn.close()
    rng = random.Random(15)
    queries = rng.sample(titles, 40)
    for body in rng.sample(bodies, 40):
        found = re.findall(r"[A-Za-z][A-Za-z-]{2,}", body)
        if len(found) >= 4:
            at = rng.randrange(len(found) - 3)
            queries += [" ".join(found[at:at + 4]), '"' + " ".join(found[at:at + 2]) + '"',
                        found[at][:4] + "*", f"{found[at]} {found[at]} {found[at + 1]}"]
    queries += ["温柔提醒", "溫柔提醒", "批次检查", "补票 提醒", "检*"]   # kano writes Traditional
    assert len(queries) > 150
    matched = 0
    for query in queries:
        matched += assert_same(path, copy, query, limits=(10, 100)) > 0
        assert_same(path, copy, query, Restriction({"type": ("task", "adr")}), limits=(10,))
    assert matched > 0.9 * len(queries)
