"""Link resolution, neighbourhoods and score expansion on hand-built graphs."""

from __future__ import annotations

import pytest

from lore.search.graph import LinkGraph, LinkResolver

DOCS = [
    (1, "items/KABSD-EPIC-0001_platform.md", "KABSD-EPIC-0001", "u-epic", "Platform", "Epic"),
    (2, "items/KABSD-FTR-0004_config-system.md", "KABSD-FTR-0004", "u-ftr", "Config system", "Feature"),
    (3, "items/KABSD-TSK-0082_loader.md", "KABSD-TSK-0082", "019b93bb-aaaa", "Loader", "Task"),
    (4, "items/KABSD-TSK-0083_writer.md", "KABSD-TSK-0083", None, "Writer", "Task"),
    (5, "decisions/ADR-0003_identifier-strategy.md", "ADR-0003", None, "Identifier strategy", "ADR"),
    (6, "notes/glossary.md", "notes/glossary.md", None, "Glossary", "Note"),
]


@pytest.fixture
def resolver() -> LinkResolver:
    return LinkResolver(DOCS)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("KABSD-TSK-0082", 3),
        ("kabsd-tsk-0082", 3),                      # ids are case-insensitive
        ("KABSD-TSK-0082@019b93bb", 3),             # id@uid-prefix form used by the backlog
        ("019b93bb-aaaa", 3),                       # uid
        ("items/KABSD-TSK-0083_writer.md", 4),      # root-relative path
        ("KABSD-FTR-0004_config-system|Config", 2), # wiki stem with alias
        ("../x/KABSD-FTR-0004_other-slug.md", 2),   # stale path, id prefix still names it
        ("glossary", 6),                            # file stem
        ("Identifier Strategy", 5),                 # title
        ("ADR-0003#consequences", 5),               # anchor dropped
        ("KABSD-TSK-9999", None),
        ("", None),
    ],
)
def test_resolve(resolver: LinkResolver, target: str, expected: int | None) -> None:
    assert resolver.resolve(target) == expected


def graph(resolver: LinkResolver) -> LinkGraph:
    links = [
        (2, "parent", "KABSD-EPIC-0001"),
        (3, "parent", "KABSD-FTR-0004"),
        (4, "parent", "KABSD-FTR-0004"),
        (3, "blocks", "KABSD-TSK-0083@019b93bb"),
        (4, "blocked_by", "KABSD-TSK-0082"),   # the same edge written from the other side
        (3, "decision", "ADR-0003"),
        (6, "wiki", "Loader"),
        (3, "relates", "KABSD-TSK-0404"),      # dangling: ignored
        (3, "relates", "KABSD-TSK-0082"),      # self link: ignored
    ]
    return LinkGraph(resolver, links)


def test_edges_are_mirrored_and_deduplicated(resolver: LinkResolver) -> None:
    g = graph(resolver)
    out = sorted((e.target, e.kind) for e in g.edges(3))
    assert out == [(2, "parent"), (4, "blocks"), (5, "decision"), (6, "backlink")]
    assert sorted((e.target, e.kind) for e in g.edges(2)) == [(1, "parent"), (3, "child"), (4, "child")]
    assert [(e.target, e.kind) for e in g.edges(5)] == [(3, "decides")]
    # blocks/blocked_by written on both sides yield one edge each way, not two
    assert [(e.target, e.kind) for e in g.edges(4) if e.target == 3] == [(3, "blocked_by")]


def test_neighbourhood_depths_and_kinds(resolver: LinkResolver) -> None:
    g = graph(resolver)
    one = {n.doc.doc_id: n for n in g.neighbourhood(3, depth=1)}
    assert set(one) == {"KABSD-FTR-0004", "KABSD-TSK-0083", "ADR-0003", "notes/glossary.md"}
    assert all(n.depth == 1 for n in one.values())
    two = {n.doc.doc_id: n.depth for n in g.neighbourhood(3, depth=2)}
    assert two["KABSD-EPIC-0001"] == 2
    assert "KABSD-TSK-0082" not in two  # the start is never its own neighbour
    only_parent = g.neighbourhood(3, depth=2, kinds=["parent"])
    assert [n.doc.doc_id for n in only_parent] == ["KABSD-FTR-0004", "KABSD-EPIC-0001"]


def test_expand_spreads_weighted_decayed_scores(resolver: LinkResolver) -> None:
    g = graph(resolver)
    weights = {"parent": 0.5, "decision": 1.0, "blocks": 0.25, "child": 0.1,
               "backlink": 0.0, "blocked_by": 0.0, "decides": 0.0}
    gained = g.expand({3: 2.0}, hops=2, decay=0.5, weights=weights)
    assert gained[5].score == pytest.approx(2.0 * 1.0)
    assert gained[4].score == pytest.approx(2.0 * 0.25 + (2.0 * 0.5) * 0.1 * 0.5)
    assert gained[1].score == pytest.approx((2.0 * 0.5) * 0.5 * 0.5)  # two hops via the feature
    assert 6 not in gained            # zero-weight edge kind
    assert 3 not in gained            # seeds are not returned
