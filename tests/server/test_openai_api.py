"""/v1/embeddings and /v1/models with real clients: the official openai package and lore's own
``openai`` provider, against a live server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _backlog import write_backlog
from click.testing import CliRunner

from lore.cli import main
from lore.config import load_settings
from lore.server.service import IndexService

LiveServer = Callable[..., str]

openai = pytest.importorskip("openai")

TEXTS = ["vector cache invalidation", "Écrire un ADR", "short"]


def lore_embed(root: Path, kind: str) -> np.ndarray:
    """Vectors as ``lore embed --json`` prints them."""
    result = CliRunner().invoke(main, ["embed", *TEXTS, "--kind", kind, "--root", str(root),
                                       "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["vectors"]
    return np.asarray([row["vector"] for row in rows], dtype=np.float32)


def client_for(url: str) -> object:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def check_identical_to_lore_embed(service: IndexService, url: str) -> None:
    client = client_for(url)
    model = client.models.list().data[0].id
    with service.reader() as idx:
        assert model == idx.embedding_runner().space.model
    as_floats = client.embeddings.create(model=model, input=TEXTS, encoding_format="float")
    as_base64 = client.embeddings.create(model=model, input=TEXTS)   # the client asks base64
    expected = lore_embed(service.root, "document")
    for reply in (as_floats, as_base64):
        got = np.asarray([item.embedding for item in reply.data], dtype=np.float32)
        assert np.array_equal(got, expected)
        assert [item.index for item in reply.data] == [0, 1, 2]
        assert reply.usage.prompt_tokens == reply.usage.total_tokens > 0
    queries = client.embeddings.create(model=model, input=TEXTS,
                                       extra_body={"input_type": "query"})
    assert np.array_equal(np.asarray([d.embedding for d in queries.data], dtype=np.float32),
                          lore_embed(service.root, "query"))


def test_official_client_float_and_base64_match_lore_embed(
        service: IndexService, live_server: LiveServer) -> None:
    check_identical_to_lore_embed(service, live_server(service))


@pytest.mark.model
def test_official_client_matches_lore_embed_with_the_real_model(
        minilm_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        live_server: LiveServer) -> None:
    monkeypatch.setenv("LORE_HOME", str(minilm_home))
    monkeypatch.setenv("LORE_EMBED__PRIMARY__PROVIDER", "onnx")
    monkeypatch.setenv("LORE_EMBED__CACHE", "false")
    root = write_backlog(tmp_path / "real", tasks=2)
    service = IndexService(root, load_settings(root).settings, readers=1)
    try:
        check_identical_to_lore_embed(service, live_server(service))
    finally:
        service.close()


def test_openai_errors_come_in_openai_shape(service: IndexService,
                                            live_server: LiveServer) -> None:
    client = client_for(live_server(service))
    with pytest.raises(openai.NotFoundError) as missing:
        client.embeddings.create(model="text-embedding-3-large", input="x")
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as shortened:
        client.embeddings.create(model="feature-hashing-v1", input="x", dimensions=64)
    assert shortened.value.body["param"] == "dimensions"
    reply = client.embeddings.create(model="feature-hashing-v1", input="x", dimensions=384)
    assert len(reply.data[0].embedding) == 384
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="feature-hashing-v1", input=[])
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="feature-hashing-v1", input=[[1, 2, 3]])


def test_lore_openai_provider_indexes_a_folder_through_a_running_server(
        service: IndexService, live_server: LiveServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = live_server(service)
    other = write_backlog(tmp_path / "other", tasks=3)
    monkeypatch.setenv("LORE_EMBED__PRIMARY__PROVIDER", "openai")
    monkeypatch.setenv("LORE_EMBED__PRIMARY__BASE_URL", f"{url}/v1")
    monkeypatch.setenv("LORE_EMBED__PRIMARY__MODEL", "feature-hashing-v1")
    monkeypatch.setenv("LORE_EMBED__PRIMARY__DIMENSIONS", "384")
    monkeypatch.setenv("LORE_EMBED__CACHE", "false")
    runner = CliRunner()
    indexed = runner.invoke(main, ["index", str(other), "--json"])
    assert indexed.exit_code == 0, indexed.output
    report = json.loads(indexed.stdout)
    assert report["vectors"]["embedded"] > 0 and not report["notices"]
    found = runner.invoke(main, ["search", "embedding model download", "--root", str(other),
                                 "--mode", "vector", "--json", "--no-server"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["hits"][0]["title"].endswith("embedding model download")
