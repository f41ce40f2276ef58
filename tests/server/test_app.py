"""The REST routes: shapes, errors as JSON, index updates, and plugging in a router."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from lore.server.app import create_app
from lore.server.security import SecurityPolicy
from lore.server.service import IndexService


@pytest.fixture
def client(service: IndexService) -> Iterator[TestClient]:
    app = create_app(service, policy=SecurityPolicy(rate_per_s=0))
    with TestClient(app, base_url="http://127.0.0.1:8321") as c:
        yield c


def test_search_returns_the_library_hits(client: TestClient, service: IndexService) -> None:
    reply = client.post("/search", json={"query": "sqlite write ahead log", "limit": 3,
                                         "mode": "keyword", "filters": {"type": ["Task"]}})
    assert reply.status_code == 200
    body = reply.json()
    with service.reader() as idx:
        expected = [h.to_json() for h in idx.search("sqlite write ahead log", limit=3,
                                                    mode="keyword",
                                                    filters={"type": ["Task"]})]
    assert body["hits"] == expected
    assert all(h["doctype"] == "Task" for h in body["hits"])
    assert body["generation"] == service.generation


def test_document_by_id_and_by_path_with_slashes(client: TestClient) -> None:
    by_id = client.get("/documents/T-3").json()
    by_path = client.get("/documents/tasks/T-3.md").json()
    assert by_id == by_path
    assert by_id["doc_id"] == "T-3" and by_id["links"] == [{"kind": "parent", "target": "F-1"}]


def test_related_and_context(client: TestClient) -> None:
    related = client.get("/related/F-1", params={"kind": ["child"]}).json()
    assert {n["doc_id"] for n in related["neighbours"]} == {f"T-{i}" for i in range(1, 13)}
    pack = client.post("/context", json={"query": "faiss sidecar swap", "budget": 300}).json()
    assert pack["used_tokens"] <= 300 and pack["items"]


def test_errors_are_json_4xx_never_500(client: TestClient) -> None:
    cases = [
        client.get("/documents/NOPE-1"),
        client.get("/related/NOPE-1"),
        client.get("/related/F-1", params={"depth": 99}),
        client.post("/search", json={"query": ""}),
        client.post("/search", json={"query": "x", "limit": 0}),
        client.post("/search", json={"query": "x", "unknown": 1}),
        client.post("/search", content=b"{not json", headers={"content-type": "application/json"}),
        client.post("/search", json={"query": "x", "mode": "psychic"}),
        client.get("/no/such/route"),
    ]
    for reply in cases:
        assert 400 <= reply.status_code < 500, reply.text
        error = reply.json()["error"]
        assert error["message"] and error["type"]


def test_post_index_syncs_and_new_readers_see_it(client: TestClient, backlog: Path) -> None:
    (backlog / "fresh.md").write_text("# Fresh\n\nquokka sightings\n")
    report = client.post("/index").json()
    assert report["added"] == ["fresh.md"]
    hits = client.post("/search", json={"query": "quokka", "mode": "keyword"}).json()["hits"]
    assert [h["path"] for h in hits] == ["fresh.md"]


def test_status_and_health(client: TestClient) -> None:
    status = client.get("/status").json()
    assert status["documents"] == 15 and status["syncs"] == 1
    assert client.get("/healthz").json() == {"status": "ok"}


def test_an_extra_router_plugs_in_with_one_argument(service: IndexService) -> None:
    extra = APIRouter()

    @extra.get("/extra", include_in_schema=False)
    def page() -> dict[str, str]:
        return {"page": "here"}

    app = create_app(service, mcp=False, extra_routers=[extra])
    with TestClient(app, base_url="http://localhost") as c:
        assert c.get("/extra").json() == {"page": "here"}
        assert c.get("/healthz").status_code == 200
        assert "text/html" in c.get("/").headers["content-type"]   # the web page stays


def test_openapi_documents_every_route_and_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/search", "/context", "/documents/{id_or_path}", "/related/{id_or_path}",
            "/index", "/status", "/healthz", "/v1/embeddings", "/v1/models"} <= set(
        schema["paths"])
    search = schema["paths"]["/search"]["post"]["responses"]
    assert search["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")


@pytest.mark.parametrize("module", ["fastapi", "mcp.server.mcpserver"])
def test_missing_serve_extra_names_the_install_command(
        service: IndexService, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    from lore.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'lore\[serve\]'"):
        create_app(service)


def test_watch_without_watchfiles_names_the_install_command(
        service: IndexService, monkeypatch: pytest.MonkeyPatch) -> None:
    from lore.errors import MissingDependencyError
    from lore.watch import Watcher

    monkeypatch.setitem(sys.modules, "watchfiles", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'lore\[serve\]'"):
        Watcher(service.root, service.index_dir, service.sync)
