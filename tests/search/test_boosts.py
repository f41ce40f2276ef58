"""Recency and visibility boosts: the pure functions, the engine wiring, the kano defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest

from lore.documents.model import Chunk, Document
from lore.index import Index
from lore.search.boosts import (
    DocumentFacts,
    document_boosts,
    document_date,
    fused_unit,
    local_documents,
    parse_date,
    recency_boost,
)
from lore.search.engine import search_store
from lore.search.hits import Hit
from lore.settings import SearchSettings, Settings
from lore.store.catalog import Catalog

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
DEFAULT_LOCAL = SearchSettings().local_paths
CANONICAL_SKILL = "skills/kano-agent-backlog-skill/SKILL.md"


# --- pure functions -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026-01-07", dt.datetime(2026, 1, 7)),
    ("2026-01-07T10:30:00Z", dt.datetime(2026, 1, 7, 10, 30, tzinfo=dt.timezone.utc)),
    ("2026-01-07 10:30:00", dt.datetime(2026, 1, 7, 10, 30)),
    (" 2026-01-07T10:30:00+02:00 ",
     dt.datetime(2026, 1, 7, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
])
def test_parse_date_reads_iso_dates_and_datetimes(text: str, expected: dt.datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("value", ["TBD", "", "07/01/2026", "2026-13-45", 20260107, None,
                                   ["2026-01-07"]])
def test_parse_date_refuses_anything_else(value: object) -> None:
    assert parse_date(value) is None


def test_document_date_takes_the_first_parseable_value() -> None:
    assert document_date(("2026-02-01", "2025-01-01", None)) == dt.datetime(2026, 2, 1)
    assert document_date(("soon", "2025-01-01", None)) == dt.datetime(2025, 1, 1)
    assert document_date((None, None, "nope")) is None


def test_recency_halves_every_half_life() -> None:
    def at(days: float) -> float:
        return recency_boost(NOW - dt.timedelta(days=days), now=NOW, half_life_days=30,
                             weight=0.2)

    assert at(0) == pytest.approx(0.2)
    assert at(30) == pytest.approx(0.2 / 2)
    assert at(90) == pytest.approx(0.2 / 8)
    assert at(-10) == pytest.approx(0.2)  # a future date is not worth more than today
    # A naive date counts as UTC midnight.
    naive = recency_boost(dt.datetime(2026, 3, 1), now=NOW, half_life_days=1, weight=1.0)
    assert naive == pytest.approx(0.5 ** 0.5)


def test_default_local_paths_match_hidden_tool_folders_caches_and_worksets() -> None:
    paths = dict(enumerate([
        ".claude/skills/kano-agent-backlog-skill/SKILL.md",
        ".github/copilot-instructions.md",
        "_kano/backlog/.cache/index.md",
        "_kano/backlog/worksets/KABSD-TSK-0001/notes.md",
        CANONICAL_SKILL,
        # Dot-folders inside the canonical tree (hooks, configs) are not agent copies.
        "skills/kano-agent-backlog-skill/.githooks/README.md",
        "docs/workset.md",
    ]))
    assert local_documents(paths, DEFAULT_LOCAL) == {0, 1, 2, 3}


def facts(*paths_and_dates: tuple[str, str | None]) -> dict[int, DocumentFacts]:
    return {doc: DocumentFacts(path, (date, None, None))
            for doc, (path, date) in enumerate(paths_and_dates)}


def test_document_boosts_map_documents_to_their_chunks() -> None:
    search = SearchSettings(recency_half_life_days=10, recency_weight=0.3, local_penalty=0.1)
    docs = facts(("a.md", "2026-03-01T12:00:00Z"), (".codex/a.md", None), ("b.md", "TBD"))
    owners = {10: 0, 11: 0, 20: 1, 30: 2}
    boosts = document_boosts(owners, docs, search, now=NOW)
    assert boosts == {"recency": {10: pytest.approx(0.3), 11: pytest.approx(0.3)},
                      "visibility": {20: -0.1}}


@pytest.mark.parametrize("search", [
    SearchSettings(recency_half_life_days=0, recency_weight=0.3, local_paths=()),
    SearchSettings(recency_half_life_days=10, recency_weight=0, local_penalty=0),
])
def test_boosts_that_are_off_add_nothing(search: SearchSettings) -> None:
    docs = facts((".claude/x.md", "2026-03-01"))
    assert document_boosts({1: 0}, docs, search, now=NOW) == {}


def test_rrf_scales_boosts_to_its_units() -> None:
    search = SearchSettings(fusion="rrf", rrf_k=9, local_penalty=0.1)
    assert fused_unit(search) == pytest.approx(1 / 10)
    boosts = document_boosts({5: 0}, facts((".agent/x.md", None)), search, now=NOW)
    assert boosts["visibility"][5] == pytest.approx(-0.1 / 10)


# --- engine wiring ------------------------------------------------------------------------

def add_document(catalog: Catalog, path: str, metadata: dict[str, str]) -> None:
    """A one-chunk document whose text is the same for every document here."""
    text = "Embedding cache invalidation when the model changes."
    doc = Document(path=path, doc_id=path, uid=None, title="Cache notes", doctype="Note",
                   metadata={"title": "Cache notes", **metadata}, links=(), body=text,
                   content_hash=path, size=len(text), mtime_ns=0)
    catalog.replace_document(doc, [Chunk(0, (), text, "document", len(text.split()))], "test")


@pytest.fixture
def twins() -> Iterator[Catalog]:
    """Identical documents, told apart only by path and date (hidden copy inserted first)."""
    catalog = Catalog.memory()
    today = dt.date.today()
    add_document(catalog, ".claude/notes/cache.md", {"updated": today.isoformat()})
    add_document(catalog, "notes/cache.md",
                 {"updated": "not a date", "created": (today - dt.timedelta(days=400)).isoformat()})
    add_document(catalog, "notes/undated.md", {})
    yield catalog
    catalog.close()


def search(catalog: Catalog, search: SearchSettings) -> list[Hit]:
    return search_store(catalog, "embedding cache", settings=Settings(search=search),
                        explain=True, mode="keyword")


def boosts_of(hits: list[Hit]) -> dict[str, dict[str, float]]:
    return {hit.path: hit.explain["boosts"] for hit in hits if hit.explain is not None}


def test_visibility_ranks_the_canonical_file_above_its_hidden_copy(twins: Catalog) -> None:
    plain = search(twins, SearchSettings(local_penalty=0))
    assert plain[0].path == ".claude/notes/cache.md"  # ties break on the older chunk id
    hits = search(twins, SearchSettings())
    paths = [hit.path for hit in hits]
    assert paths.index("notes/cache.md") < paths.index(".claude/notes/cache.md")
    assert boosts_of(hits)[".claude/notes/cache.md"] == {
        "visibility": pytest.approx(-SearchSettings().local_penalty)}
    assert boosts_of(hits)["notes/cache.md"] == {}


def test_recency_prefers_the_recently_updated_document(twins: Catalog) -> None:
    recency = SearchSettings(local_penalty=0, recency_half_life_days=30, recency_weight=0.05)
    hits = search(twins, recency)
    assert hits[0].path == ".claude/notes/cache.md"
    boosts = boosts_of(hits)
    assert boosts[".claude/notes/cache.md"]["recency"] == pytest.approx(0.05, rel=0.05)
    # 400 days from `created` (the unparseable `updated` is passed over): 2**-13 of the weight.
    assert boosts["notes/cache.md"]["recency"] == pytest.approx(0.05 * 0.5 ** (400 / 30),
                                                                rel=0.05)
    assert "recency" not in boosts["notes/undated.md"]


def test_no_facts_query_when_every_boost_is_off(twins: Catalog) -> None:
    statements: list[str] = []
    twins.conn.set_trace_callback(statements.append)
    search(twins, SearchSettings(local_paths=(), recency_weight=0))
    off = list(statements)
    statements.clear()
    search(twins, SearchSettings())
    twins.conn.set_trace_callback(None)
    assert not any("json_extract" in sql for sql in off)
    assert sum("json_extract" in sql for sql in statements) == 1


# --- the kano corpus ----------------------------------------------------------------------

def title_word_queries(title: str) -> list[str]:
    """Every 2- to 4-word combination of the title's words, and the whole title."""
    words = [word.strip("()") for word in title.split()]
    return [title] + [" ".join(combo) for n in (2, 3, 4)
                      for combo in itertools.combinations(words, n)]


def test_kano_canonical_skill_ranks_above_its_hidden_copies(kano_index: Index) -> None:
    record = kano_index.get(CANONICAL_SKILL)
    assert record is not None
    hidden = {path for (path,) in kano_index._store.conn.execute(
        "SELECT path FROM documents WHERE path LIKE '.%/kano-agent-backlog-skill/SKILL.md'")}
    assert len(hidden) >= 5, "hidden-folder copies are indexed, so the penalty matters"
    copies_seen = 0
    for query in title_word_queries(record.title):
        paths = [hit.path for hit in kano_index.search(query, limit=200, mode="keyword")]
        assert CANONICAL_SKILL in paths, query
        copies = [paths.index(path) for path in hidden if path in paths]
        copies_seen += len(copies)
        assert all(paths.index(CANONICAL_SKILL) < rank for rank in copies), query
    assert copies_seen, "the copies compete for these queries"
