"""Provider fault matrix (#14 items 7, 8, 12, 13) against a fake server on 127.0.0.1.

For every kind of bad reply: ``lore index`` stores and caches nothing from it
and says why; a later build against the healthy server equals a clean build;
``lore search`` answers from keywords with a notice and exits 0.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fake_provider import FAULTS, FakeProvider, cached_vectors, dead_url
from click.testing import CliRunner

from lore.cli import main

SECRET = "sk-unrelated-secret-0123456789abcdef"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    import lore.embed._http as http

    monkeypatch.setattr(http, "_sleep", lambda seconds: None)  # retries without the waits
    fake = FakeProvider()
    yield fake
    fake.close()


def user_config(home: Path, base_url: str, extra: str = "") -> None:
    (home / "config.toml").write_text(
        f'[embed.primary]\nprovider = "openai"\nmodel = "fake"\nbase_url = "{base_url}"\n'
        f'dimensions = 16\ntimeout_s = 0.5\nbatch_size = 4\n{extra}')


def corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        (root / f"n{i}.md").write_text(f"# Note {i}\n\nalpha beta topic{i} gamma\n\n"
                                       f"## Part\n\nsecond section words {i}\n")
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def stored(root: Path) -> dict[tuple[str, int], bytes]:
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    try:
        return {(path, ordinal): vector for path, ordinal, vector in conn.execute(
            "SELECT d.path, c.ordinal, v.vector FROM chunk_vectors v JOIN chunks c "
            "ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id")}
    finally:
        conn.close()


def cached(home: Path) -> int:
    return cached_vectors(home / "embed-cache.sqlite")


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_stores_nothing_and_search_degrades(fault: str, server: FakeProvider,
                                                  isolated_user_dirs: Path,
                                                  tmp_path: Path) -> None:
    home = isolated_user_dirs
    faulty_url = dead_url() if fault == "dead" else server.base_url
    user_config(home, faulty_url)
    server.mode = fault
    root = corpus(tmp_path / "r")
    code, out = run("index", str(root))
    assert code == 0, out
    assert "vectors not updated" in out
    assert stored(root) == {} and cached(home) == 0   # nothing wrong stored or cached

    # Healthy again: the same index now equals a clean build made elsewhere.
    user_config(home, server.base_url)
    server.mode = "ok"
    assert run("index", str(root))[0] == 0
    run("cache", "clear")
    clean = corpus(tmp_path / "clean")
    assert run("index", str(clean))[0] == 0
    assert stored(root) == stored(clean) and len(stored(root)) == 6

    # The provider fails while searching: keyword results with a notice, exit 0.
    # (A one-text reply with every index 0 is correct: queries are embedded one at a time.)
    if fault == "index0_reversed":
        return
    user_config(home, faulty_url)
    server.mode = fault
    queries_before = cached(home)
    code, out = run("search", f"topic3 gamma {fault}", "--root", str(root))
    assert code == 0, out
    assert "keyword results only" in out and "n3.md" in out
    assert cached(home) == queries_before


def test_project_cannot_send_a_secret_until_trusted(server: FakeProvider,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """#14 item 12: a cloned lore.toml naming an unrelated secret as its API key."""
    monkeypatch.setenv("MY_UNRELATED_SECRET", SECRET)
    root = corpus(tmp_path / "cloned")
    (root / "lore.toml").write_text(
        f'[embed.primary]\nprovider = "openai"\nmodel = "fake"\nbase_url = "{server.base_url}"\n'
        'dimensions = 16\napi_key_env = "MY_UNRELATED_SECRET"\n')
    code, out = run("index", str(root))
    assert code != 0 and "api_key_env" in out and f"lore trust {root}" in out
    assert server.requests == []                          # nothing was sent anywhere
    (root / "lore.toml").write_text(
        '[embed.primary]\nprovider = "openai"\nmodel = "m"\ndimensions = 16\n'
        'base_url = "https://collector.example.com/v1"\n')
    code, out = run("search", "alpha", "--root", str(root))
    assert code != 0 and "collector.example.com" in out
    (root / "lore.toml").write_text('[index]\nfollow_symlinks_outside = true\n')
    assert run("index", str(root))[0] != 0
    (root / "lore.toml").write_text(
        f'[embed.primary]\nprovider = "openai"\nmodel = "fake"\nbase_url = "{server.base_url}"\n'
        'dimensions = 16\napi_key_env = "MY_UNRELATED_SECRET"\n')
    assert run("trust", str(root))[0] == 0
    code, out = run("index", str(root))
    assert code == 0 and "vectors not updated" not in out
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_echoed_bodies_keys_and_url_passwords_are_redacted(server: FakeProvider,
                                                           isolated_user_dirs: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    """#14 item 13: an echoing server, and a password in base_url."""
    monkeypatch.setenv("MY_KEY", SECRET)
    url = server.base_url.replace("http://", "http://user:hunter2pass@")
    user_config(isolated_user_dirs, url, 'api_key_env = "MY_KEY"\n')
    server.mode = "echo"
    root = corpus(tmp_path / "r")
    (root / "private.md").write_text("# Private\n\nthe confidential merger plan of acme corp\n")
    outputs = [run("index", str(root))[1],
               run("search", "what is the confidential quarterly figure", "--root", str(root))[1],
               run("doctor", "--root", str(root))[1],
               run("config", "--json", "--root", str(root))[1],
               run("config", "--root", str(root))[1]]
    assert server.requests, "the server was called"
    for out in outputs:
        assert SECRET not in out and "hunter2pass" not in out
        assert "confidential merger plan" not in out and "confidential quarterly" not in out
    assert "user:***@127.0.0.1" in outputs[3]
