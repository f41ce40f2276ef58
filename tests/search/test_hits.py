"""SearchResult: a sequence of hits that carries its own notices."""

from __future__ import annotations

from lore.search.hits import ChunkInfo, Hit, SearchResult


def hit(path: str) -> Hit:
    return Hit(path=path, doc_id=path, title=path, score=1.0, snippet="", highlights=(),
               metadata={}, doctype="Note", chunk=ChunkInfo(0, (), "document"))


def test_a_result_is_a_sequence_of_its_hits() -> None:
    a, b, c = hit("a.md"), hit("b.md"), hit("c.md")
    result = SearchResult([a, b, c], ["keyword results only"])
    assert len(result) == 3 and result[0] is a and result[-1] is c
    assert result[1:] == [b, c] and list(result) == [a, b, c]
    assert result.hits == (a, b, c) and result.notices == ("keyword results only",)
    assert result == [a, b, c]
    assert result != SearchResult([a, b, c])     # same hits, different notices


def test_json_envelope_keeps_each_hit_shape() -> None:
    result = SearchResult([hit("a.md")], ["reranker skipped"])
    assert result.to_json() == {"hits": [hit("a.md").to_json()], "notices": ["reranker skipped"],
                                "weak_match": False}
    assert SearchResult([], weak_match=True).to_json()["weak_match"] is True
