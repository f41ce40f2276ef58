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


# Two files claim ADR-0011 (as in kano); the task's link to "ADR-0011" cannot say which.
SHARED = [
    (1, "items/FTR-0015_workset.md", "FTR-0015", None, "Workset", "Feature"),
    (2, "items/TSK-0155_promote.md", "TSK-0155", None, "Promote", "Task"),
    (3, "decisions/ADR-0011_graph-assisted.md", "ADR-0011", "u-graph", "Graph RAG", "ADR"),
    (4, "decisions/ADR-0011_workset-split.md", "ADR-0011", "u-work", "Workset split", "ADR"),
    (5, "items/FTR-0023_graph.md", "FTR-0023", None, "Graph", "Feature"),
]


def _shared_graph(*extra: tuple[int, str, str]) -> LinkGraph:
    return LinkGraph(LinkResolver(SHARED), [
        (2, "parent", "FTR-0015"),
        (2, "decision", "ADR-0011"),
        (4, "relates", "FTR-0015"),    # the workset ADR names the task's parent
        (3, "relates", "FTR-0023"),    # the other one names an unrelated feature
        *extra,
    ])


def _doubtful(g: LinkGraph, source: int) -> dict[tuple[int, str], bool]:
    return {(e.target, e.kind): e.doubtful for e in g.edges(source)}


def test_a_shared_id_link_doubts_the_less_connected_document() -> None:
    g = _shared_graph()
    assert _doubtful(g, 2) == {(1, "parent"): False, (3, "decision"): True,
                               (4, "decision"): False}
    # the mirrored edge carries the same doubt: ADR 3 is probably not what 2 follows
    assert _doubtful(g, 3)[(2, "decides")] is True
    assert _doubtful(g, 4)[(2, "decides")] is False


def test_a_shared_id_link_with_nothing_to_go_on_doubts_neither() -> None:
    g = LinkGraph(LinkResolver(SHARED), [(2, "decision", "ADR-0011")])
    assert _doubtful(g, 2) == {(3, "decision"): False, (4, "decision"): False}


def test_a_certain_link_outweighs_a_doubtful_one() -> None:
    # the task also names the graph ADR by its uid: that edge is certain
    g = _shared_graph((2, "decision", "u-graph"))
    assert _doubtful(g, 2)[(3, "decision")] is False
