"""The engine on the real kano backlog: relation answers, copies, hubs, decisions, scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lore.index import Index

SKILL = "skills/kano-commit-convention-skill/SKILL.md"
ADAPTERS = (".agent", ".claude", ".codex", ".goose", ".github")


def test_what_blocks_x_answers_before_the_anchor(kano_index: Index) -> None:
    hits = kano_index.search("what blocks KABSD-TSK-0083", explain=True)
    assert [h.doc_id for h in hits[:2]] == ["KABSD-TSK-0082", "KABSD-TSK-0083"]
    record = hits[0].explain
    assert record is not None and record["relation"]["relation"] == "blocked_by"
    assert record["relation"]["path"] == "KABSD-TSK-0083 -blocked_by-> KABSD-TSK-0082"
    assert hits[0].via == (("blocked_by", "KABSD-TSK-0083"),)


def test_a_relation_with_nothing_linked_says_so(kano_index: Index, kano_corpus: Path) -> None:
    # KABSD-TSK-0244's front matter links nothing, and no other file lists it as blocking
    task = next(kano_corpus.rglob("KABSD-TSK-0244_*.md"))
    front = yaml.safe_load(task.read_text(encoding="utf-8").split("---")[1])
    assert front["links"]["blocked_by"] == []
    hits = kano_index.search("what blocks KABSD-TSK-0244", explain=True)
    assert hits[0].doc_id == "KABSD-TSK-0244"
    assert any("no blocked_by links found for KABSD-TSK-0244" in n for n in hits.notices)
    assert all(h.explain is not None and "relation" not in h.explain for h in hits)
    answered = kano_index.search("what blocks KABSD-TSK-0083")
    assert not any("links found" in n for n in answered.notices)


def test_relation_answers_respect_filters(kano_index: Index) -> None:
    hits = kano_index.search("children of KABSD-EPIC-0003", filters={"type": ["Feature"]})
    assert hits and all(h.doctype == "Feature" for h in hits)
    assert {"KABSD-FTR-0007", "KABSD-FTR-0008", "KABSD-FTR-0042"} <= {h.doc_id for h in hits}


def test_a_relation_with_an_unknown_anchor_is_a_normal_search(kano_index: Index) -> None:
    hits = kano_index.search("what blocks the flux capacitor", explain=True)
    assert all(h.explain is not None and "relation" not in h.explain for h in hits)


def test_the_skill_adapter_copies_are_one_hit(kano_index: Index) -> None:
    hits = kano_index.search("commit message convention allowed scopes", limit=10)
    copies = [h for h in hits if h.path.endswith(SKILL) and h.path.split("/")[0] in ADAPTERS]
    assert len(copies) == 1
    adapters = {f"{folder}/{SKILL}" for folder in ADAPTERS}
    assert {copies[0].path, *copies[0].also_at} == adapters
    assert copies[0].to_json()["also_at"] == list(copies[0].also_at)


def test_every_dashboard_is_a_hub_and_no_adr_is(kano_index: Index, kano_corpus: Path) -> None:
    conn = kano_index._store.conn
    hubs = {path for (path,) in conn.execute("SELECT path FROM documents WHERE hub = 1")}
    dashboards = {p.relative_to(kano_corpus).as_posix()
                  for p in kano_corpus.rglob("views/Dashboard_*.md")}
    assert len(dashboards) >= 9 and dashboards <= hubs
    assert not {p for p in hubs if "/decisions/ADR-" in p}
    ids = {rowid for (rowid,) in conn.execute("SELECT id FROM documents WHERE hub = 1")}
    assert kano_index._store.all_hubs() == ids


def test_hubs_rank_below_content(kano_index: Index) -> None:
    # the epic's map of content and the release brief list this epic by its title
    hits = kano_index.search("Milestone 0.0.2 Indexing Resolver", limit=1000)
    flags = [h.hub for h in hits]
    assert True in flags and False in flags
    assert flags == sorted(flags)  # every content hit before the first hub


def test_hubs_seed_no_expansion(kano_index: Index) -> None:
    hits = kano_index.search("Dashboard_PlainMarkdown_Done", limit=1, expand=True)
    assert hits[0].hub
    assert len(hits) == 1  # nothing added from a page that links to everything


def test_decision_questions_lift_decision_holders(kano_index: Index) -> None:
    question = kano_index.search("why did we choose SQLite", limit=5, explain=True)
    plain = kano_index.search("choose SQLite", limit=5)
    lifted = [h for h in question[:3] if h.explain and h.explain["boosts"].get("decision")]
    assert len(lifted) == 3
    assert question[0].doctype == "ADR"
    assert sum(h.doctype == "ADR" for h in plain[:3]) < 2


@pytest.mark.parametrize("query", ["embedding cache invalidation", "why did we choose SQLite",
                                   "children of KABSD-EPIC-0003", "KABSD-TSK-0350",
                                   "commit message convention"])
def test_scores_are_probabilities_monotone_in_rank(kano_index: Index, query: str) -> None:
    for mode in ("keyword", "hybrid"):
        scores = [h.score for h in kano_index.search(query, limit=20, mode=mode)]
        assert scores and all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert scores[0] > scores[-1]


@pytest.mark.parametrize("query", ["x" * 5000, "🚀", "zzqx flurble"])
def test_a_nonsense_query_is_flagged(kano_index: Index, query: str) -> None:
    hits = kano_index.search(query)
    assert hits.weak_match
    # weak hits are called the nearest there are; no hits at all need no such notice
    assert any("No strong match" in n for n in hits.notices) == bool(hits)


def test_a_real_query_is_not_flagged(kano_index: Index) -> None:
    hits = kano_index.search("UnicodeEncodeError non-UTF8 terminal")
    assert not hits.weak_match and "BUG-0006" in hits[0].doc_id
