"""The BM25 leg: column weights, filter restriction, limits; snippets and highlights."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lore.index import Index
from lore.search.fts import match_terms
from lore.search.keyword import keyword_leg, parse_marked, snippets
from lore.search.query import parse_query
from lore.store import bm25
from lore.store.base import Restriction, Store
from lore.store.catalog import Catalog


def match(text: str) -> list[str]:
    """The query's alternatives as FTS5 strings, as the engine passes them."""
    return match_terms(parse_query(text, ()))


def paths(store: Store, chunk_ids: list[int]) -> list[str]:
    """The document path of each chunk id, in order."""
    rows = store.hit_rows(chunk_ids)
    return [rows[cid].path for cid in chunk_ids]


def test_column_weights_decide_title_versus_body(mini_store: Store) -> None:
        # "embedding" is in the title of the cache task and in the body of the ADR.
    title_first = keyword_leg(mini_store, match("embedding"), weights=(10.0, 1.0, 0.1), limit=10)
    body_first = keyword_leg(mini_store, match("embedding"), weights=(0.1, 1.0, 10.0), limit=10)
    assert paths(mini_store, [c for c, _ in title_first.ranked])[0].startswith("items/KABSD-TSK-0001")
    assert paths(mini_store, [c for c, _ in body_first.ranked])[0] == "decisions/ADR-0001_sqlite.md"


def test_scores_are_positive_and_descending(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache vectors"), weights=(3, 2, 1), limit=10)
    scores = [s for _, s in leg.ranked]
    assert leg.name == "keyword"
    assert len(scores) >= 3
    assert all(s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_limit_cuts_the_ranking(mini_store: Store) -> None:
    full = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100)
    top2 = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=2)
    assert len(full.ranked) > 2
    assert top2.ranked == full.ranked[:2]


def test_filter_restricts_to_matching_documents(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100,
                      restriction=Restriction({"type": ("task",), "state": ("done",)}))
    assert set(paths(mini_store, [c for c, _ in leg.ranked])) == {
        "items/KABSD-TSK-0001_cache.md"}


def test_headings_are_searched(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100)
    assert "notes/README.md" in paths(mini_store, [c for c, _ in leg.ranked])


def test_no_terms_no_hits(mini_store: Store) -> None:
    assert keyword_leg(mini_store, [], weights=(3, 2, 1), limit=10).ranked == []


@pytest.mark.parametrize("per_document", [True, False])
def test_common_term_pruning_never_comes_back_short(mini_catalog: Catalog, per_document: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    conn = mini_catalog.conn
    table = bm25.DOCUMENTS if per_document else bm25.CHUNKS
    terms = match("cache sidecar")
    exact = keyword_leg(mini_catalog, terms, weights=(3, 2, 1), limit=10, per_document=per_document)
    assert bm25._common_terms(conn, table, terms)[0] == set()  # too few rows to bother
    monkeypatch.setattr(bm25, "COMMON_MIN_ROWS", 0)
    monkeypatch.setattr(bm25, "COMMON_FRACTION", 0.5)
    # "cache" is in most rows: common; "sidecar" in one.
    assert bm25._common_terms(conn, table, terms)[0] == {'"cache"'}
    assert bm25._common_terms(conn, table, match("cache"))[0] == set()  # nothing rarer
    assert len(exact.ranked) > 1
    for limit in (1, 2, 10):    # one rare match: the rest must come from the common term
        pruned = keyword_leg(mini_catalog, terms, weights=(3, 2, 1), limit=limit,
                             per_document=per_document)
        assert pruned.ranked == exact.ranked[:limit]
    assert paths(mini_catalog, [exact.ranked[0][0]]) == ["items/KABSD-TSK-0002_store.md"]


def test_a_term_matching_nothing_does_not_hide_the_others(mini_catalog: Catalog,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bm25, "COMMON_MIN_ROWS", 0)
    alone = keyword_leg(mini_catalog, match("cache"), weights=(3, 2, 1), limit=10)
    with_typo = keyword_leg(mini_catalog, match("cache zzqqxxtypo"), weights=(3, 2, 1),
                            limit=10)
    assert alone.ranked and [c for c, _ in with_typo.ranked] == [c for c, _ in alone.ranked]


def test_snippets_mark_the_matched_terms(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("sidecar index"), weights=(3, 2, 1), limit=10)
    found = snippets(mini_store, match("sidecar index"), [c for c, _ in leg.ranked])
    sidecar = found[leg.ranked[0][0]]
    marked = [sidecar.text[s:e].lower() for s, e in sidecar.highlights]
    assert sidecar.text == "Store vectors in a sidecar index."
    assert marked == ["sidecar", "index"]


def test_snippet_without_a_match_is_the_chunk_start(mini_store: Store) -> None:
    record = mini_store.get_document("ADR-0001")
    assert record is not None
    chunk = record.chunks[0]
    found = snippets(mini_store, [], [chunk.id])
    assert found[chunk.id].text == chunk.text
    assert found[chunk.id].highlights == ()


@pytest.mark.parametrize("marked, text, spans", [
    ("a \x02b\x03  c\n\nd", "a b c d", ((2, 3),)),
    ("\x02x\x03", "x", ((0, 1),)),
    ("no marks", "no marks", ()),
    ("\x03stray close \x02open", "stray close open", ()),
])
def test_parse_marked(marked: str, text: str, spans: tuple[tuple[int, int], ...]) -> None:
    snippet = parse_marked(marked)
    assert snippet.text == text
    assert snippet.highlights == spans


# --- the kano corpus and other scripts --------------------------------------------------

def test_kano_a_term_matching_nothing_leaves_the_rest(kano_index: Index) -> None:
    alone = kano_index.search("backlog", limit=50, mode="keyword")
    typo = kano_index.search("backlog zzqqxxtypo", limit=50, mode="keyword")
    assert len(alone) == 50
    assert [h.path for h in typo] == [h.path for h in alone]


def test_kano_a_filter_returns_every_document_with_a_term(kano_index: Index,
                                                          kano_corpus: Path) -> None:
    adrs = kano_index.search("type:ADR", limit=1000, mode="keyword")   # the filter alone
    forms = {"backlog", "backlogs", "backlogged", "storage", "storages"}

    def mentions(path: str) -> bool:
        record = kano_index.get(path)
        assert record is not None
        words = re.findall(r"[^\W_]+", f"{record.title} {record.body}".lower())
        return bool(forms.intersection(words))

    # Near-identical ADRs fold into one hit that names its copies ("also at").
    expected = {path for h in adrs for path in (h.path, *h.also_at) if mentions(path)}
    assert len(expected) >= 30
    hits = kano_index.search("type:ADR backlog storage", limit=1000, mode="keyword")
    assert {path for h in hits for path in (h.path, *h.also_at)} == expected


CJK_NOTES = {
    "zh.md": "# 索引\n\n我們決定重構索引模組，讓搜尋更快。\n",
    "zh-hans.md": "# 模块\n\n我们决定重构索引模块，让检索更快。\n",
    "ja.md": "# 検索\n\n全文検索エンジンを日本語に対応させる。\n",
    "ko.md": "# 검색\n\n전문 검색 엔진을 한국어에 맞춘다.\n",
    "en.md": "# Index\n\nWe refactor the index module so that search gets faster.\n",
    "mixed.md": "# Notes\n\nThe lore index 重構 plan: see the sqlite notes.\n",
}


@pytest.fixture(scope="module")
def cjk_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """A small mixed-language folder, indexed keyword-only."""
    from lore.index import open_index
    from lore.settings import EmbedSettings, Settings

    root = tmp_path_factory.mktemp("cjk")
    for name, text in CJK_NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    index = open_index(root, settings=Settings(embed=EmbedSettings(enabled=False)),
                       index_dir=tmp_path_factory.mktemp("cjk-index"))
    index.sync()
    yield index
    index.close()


# (query, {path found: the word marked in its snippet}): Traditional and
# Simplified Chinese find each other and mark the file's own spelling;
# folding is not translation (模組 folds to 模组, not to the mainland word 模块);
# Japanese (検 is not Chinese 检) and Korean find only their own files.
@pytest.mark.parametrize(("query", "marks"), [
    ("重構", {"zh.md": "重構", "zh-hans.md": "重构", "mixed.md": "重構"}),
    ("重构", {"zh.md": "重構", "zh-hans.md": "重构", "mixed.md": "重構"}),
    ("模組", {"zh.md": "模組"}),
    ("讓檢索", {"zh-hans.md": "让检索"}),
    ("日本語", {"ja.md": "日本語"}),
    ("検索", {"ja.md": "検索"}),
    ("한국어", {"ko.md": "한국어"}),
    ("refactor", {"en.md": "refactor"}),
])
def test_cjk_and_latin_words_find_their_files_and_are_highlighted(
        cjk_index: Index, query: str, marks: dict[str, str]) -> None:
    hits = cjk_index.search(query, mode="keyword")
    assert {h.path for h in hits} == set(marks)
    for hit in hits:
        marked = [hit.snippet[s:e] for s, e in hit.highlights]
        assert marks[hit.path] in marked, (hit.snippet, hit.highlights)


def test_a_query_mixing_scripts_finds_both(cjk_index: Index) -> None:
    hits = cjk_index.search("重構 sqlite", mode="keyword")
    assert hits[0].path == "mixed.md"     # the only file with both words
    assert {h.path for h in hits} == {"zh.md", "zh-hans.md", "mixed.md"}


@pytest.mark.parametrize(("simplified", "traditional"), [
    ("温柔提醒", "溫柔提醒"), ("批次检查", "批次檢查"), ("补票", "補票"),
    ("先上车后补票", "先上車後補票"),
])
def test_kano_chinese_in_either_script_finds_every_file_writing_it(
        kano_index: Index, kano_corpus: Path, simplified: str, traditional: str) -> None:
    # The corpus writes Traditional; the files holding the word are read off the disk.
    expected = {path.relative_to(kano_corpus).as_posix() for path in kano_corpus.rglob("*.md")
                if traditional in path.read_text(encoding="utf-8", errors="replace")}
    assert expected
    for query in (simplified, traditional):
        hits = kano_index.search(query, limit=20, mode="keyword")
        assert {path for h in hits for path in (h.path, *h.also_at)} == expected, query
        for hit in hits:   # where the snippet shows the file's word, it is marked
            marked = [hit.snippet[s:e] for s, e in hit.highlights]
            assert traditional not in hit.snippet or traditional in marked, hit.snippet
