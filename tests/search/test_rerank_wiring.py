"""Reranking inside ``Index.search``: new order, fallback with a notice, pins, a real HTTP hop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from lore.config import load_settings
from lore.errors import ConfigError, ProviderError
from lore.index import Index, open_index
from lore.search import rerank as rerank_module
from lore.search.hits import Hit
from lore.search.rerank import CrossEncoderReranker, HttpReranker, Reranker, build_reranker
from lore.settings import EmbedSettings, RerankSettings, Settings

MARKERS = ("alpha", "bravo", "charlie", "delta", "echo")


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """Five notes about the cache, one marker word each, plus an id-bearing task."""
    root = tmp_path / "notes"
    root.mkdir()
    for n, marker in enumerate(MARKERS):
        # Earlier markers repeat "cache" more, so BM25 ranks them first.
        (root / f"{marker}.md").write_text(
            f"# Note {marker}\n\n{'cache ' * (len(MARKERS) - n)}{marker} details.\n")
    (root / "task.md").write_text("---\nid: PRJ-TSK-0001\ntitle: Task\ntype: Task\n---\n\n"
                                  "# Context\n\nThe cache once, for the task.\n")
    return root


def open_notes(root: Path, **rerank: Any) -> Index:
    settings = Settings(embed=EmbedSettings(enabled=False), rerank=RerankSettings(**rerank))
    index = open_index(root, settings=settings)
    index.sync()
    return index


class PreferenceReranker:
    """Scores a passage by which marker it holds: the later in ``order``, the lower."""

    name = "preference"

    def __init__(self, order: Sequence[str]) -> None:
        self.order = list(order)
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        self.calls.append((query, list(passages)))
        return [float(len(self.order) - next((i for i, m in enumerate(self.order) if m in p),
                                             len(self.order))) for p in passages]


class FailingReranker:
    name = "failing"

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        raise ProviderError("model server is down")


def use(monkeypatch: pytest.MonkeyPatch, reranker: Reranker) -> list[RerankSettings]:
    """Make ``build_reranker`` return ``reranker``; returns the settings it was built from."""
    built: list[RerankSettings] = []

    def factory(settings: RerankSettings, offline: bool) -> Reranker | None:
        built.append(settings)
        return None if settings.provider == "none" else reranker

    monkeypatch.setattr(rerank_module, "build_reranker", factory)
    return built


def markers(hits: Sequence[Hit]) -> list[str]:
    return [Path(hit.path).stem for hit in hits]


def test_order_follows_the_reranker_scores(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preferred = ["delta", "alpha", "echo", "charlie", "bravo"]
    fake = PreferenceReranker(preferred)
    built = use(monkeypatch, fake)
    with open_notes(notes, provider="cross-encoder", candidates=30) as index:
        hits = index.search("cache", mode="keyword", limit=3, explain=True)
        index.search("cache", mode="keyword")
    assert markers(hits) == preferred[:3]
    assert len(built) == 1, "the reranker is built once per index"
    query, passages = fake.calls[0]
    assert query == "cache"
    assert len(passages) == len(MARKERS) + 1  # every candidate, not just the first 3
    assert all("cache" in p for p in passages)  # chunk text, not the title
    records = [hit.explain["rerank"] for hit in hits if hit.explain is not None]
    assert [r["applied"] for r in records] == [True] * 3
    assert [r["score"] for r in records] == sorted((r["score"] for r in records), reverse=True)
    assert hits.notices == ()


def test_fused_order_without_a_reranker(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = use(monkeypatch, PreferenceReranker(["echo"]))
    with open_notes(notes) as index:
        hits = index.search("cache", mode="keyword", explain=True)
    assert markers(hits)[:5] == list(MARKERS)
    assert all(hit.explain is not None and "rerank" not in hit.explain for hit in hits)
    assert [b.provider for b in built] == ["none"]


def test_explain_stays_off_unless_asked(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, PreferenceReranker(["echo"]))
    with open_notes(notes, provider="cross-encoder") as index:
        hits = index.search("cache", mode="keyword")
    assert markers(hits)[0] == "echo"
    assert all(hit.explain is None for hit in hits)


def test_candidates_cover_at_least_the_limit(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PreferenceReranker(["bravo", "echo"])
    use(monkeypatch, fake)
    with open_notes(notes, provider="cross-encoder", candidates=2) as index:
        hits = index.search("cache", mode="keyword", limit=4)
        assert len(fake.calls[-1][1]) == 4 and len(hits) == 4
        hits = index.search("cache", mode="keyword", limit=1)
        assert len(fake.calls[-1][1]) == 2 and markers(hits) == ["bravo"]  # best of top 2


def test_failure_keeps_fused_order_and_says_so(notes: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FailingReranker())
    with open_notes(notes, provider="http") as index:
        hits = index.search("cache", mode="keyword", explain=True)
        notices = list(hits.notices)
    assert markers(hits)[:5] == list(MARKERS)
    assert len(notices) == 1 and "model server is down" in notices[0]
    assert "fused order" in notices[0]
    record = hits[0].explain["rerank"] if hits[0].explain else None
    assert record is not None and not record["applied"] and record["score"] is None
    assert "model server is down" in record["reason"]


def test_overrun_keeps_fused_order(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, PreferenceReranker(["echo"]))
    with open_notes(notes, provider="cross-encoder", time_budget_s=-1.0) as index:
        hits = index.search("cache", mode="keyword")
        assert markers(hits)[:5] == list(MARKERS)
        assert len(hits.notices) == 1 and "time budget" in hits.notices[0]


def test_pinned_id_hit_stays_first(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PreferenceReranker(["echo", "delta"])
    use(monkeypatch, fake)
    with open_notes(notes, provider="cross-encoder") as index:
        hits = index.search("PRJ-TSK-0001 cache", mode="keyword", explain=True)
    assert hits[0].doc_id == "PRJ-TSK-0001"
    assert markers(hits[1:3]) == ["echo", "delta"]
    assert hits[0].explain is not None and hits[0].explain["rerank"]["applied"] is False
    assert all("The cache once" not in p for p in fake.calls[0][1])  # pins are not scored


def test_filter_only_query_is_not_reranked(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PreferenceReranker(["echo"])
    use(monkeypatch, fake)
    with open_notes(notes, provider="cross-encoder") as index:
        hits = index.search("type:task", mode="keyword", explain=True)
    assert [hit.doc_id for hit in hits] == ["PRJ-TSK-0001"]
    assert fake.calls == []


@pytest.fixture
def rerank_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local ``/rerank`` endpoint that prefers passages with later markers."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, **body})
            results = [{"index": i, "relevance_score": float(
                max((n for n, m in enumerate(MARKERS) if m in text), default=-1))}
                for i, text in enumerate(body["documents"])]
            payload = json.dumps({"results": results}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_http_reranker_end_to_end(notes: Path,
                                  rerank_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = rerank_server
    with open_notes(notes, provider="http", base_url=url, time_budget_s=10.0) as index:
        hits = index.search("cache type:note", mode="keyword", explain=True)
        assert hits.notices == ()
    assert markers(hits) == list(reversed(MARKERS))
    assert seen[0]["path"] == "/rerank" and seen[0]["query"] == "cache"
    assert all(hit.explain is not None and hit.explain["rerank"]["applied"] for hit in hits)


def test_http_reranker_down_keeps_results(notes: Path) -> None:
    with open_notes(notes, provider="http", base_url="http://127.0.0.1:9") as index:
        hits = index.search("cache", mode="keyword")
        assert markers(hits)[:5] == list(MARKERS)
        assert len(hits.notices) == 1 and "Check that it is running" in hits.notices[0]


# --- the factory --------------------------------------------------------------------------

def test_build_reranker_per_provider() -> None:
    assert build_reranker(RerankSettings(), offline=False) is None
    assert isinstance(build_reranker(RerankSettings(provider="cross-encoder", model="/m"),
                                     offline=True), CrossEncoderReranker)
    assert isinstance(build_reranker(RerankSettings(provider="http", base_url="http://h"),
                                     offline=False), HttpReranker)


@pytest.mark.parametrize("settings, offline, message", [
    (RerankSettings(provider="cross-encoder"), False, "rerank.model"),
    (RerankSettings(provider="http"), False, "rerank.base_url"),
    (RerankSettings(provider="http", base_url="http://h"), True, "offline"),
    (RerankSettings(provider="colbert"), False, "Unknown rerank.provider"),
])
def test_build_reranker_refuses_bad_settings(settings: RerankSettings, offline: bool,
                                             message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_reranker(settings, offline=offline)


def test_provider_choices_are_checked_when_loading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cross-encoder"):
        load_settings(None, env={"LORE_RERANK__PROVIDER": "colbert"}, user_file=tmp_path / "x")
    loaded = load_settings(None, env={"LORE_RERANK__PROVIDER": "http"}, user_file=tmp_path / "x")
    assert loaded.settings.rerank.provider == "http"
