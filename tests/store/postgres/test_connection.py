"""Connecting to PostgreSQL: passwords never shown, unusable servers refused with the fix."""

from __future__ import annotations

from typing import Any

import pytest

from lore.errors import StoreError
from lore.store.postgres import connection
from lore.store.postgres.connection import is_postgres_url, redact, version_tuple


@pytest.mark.parametrize("text, shown", [
    ("postgresql://lore:s3cr#t@db:5432/x", "postgresql://lore:***@db:5432/x"),
    ("failed: postgres://u:pw@h/db?sslmode=require", "failed: postgres://u:***@h/db?sslmode=require"),
    ("host=db password=hunter2 user=u", "host=db password=*** user=u"),
    ("postgresql:///x?host=/tmp/sock", "postgresql:///x?host=/tmp/sock"),
])
def test_redact_hides_passwords(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_store_urls_are_recognised() -> None:
    assert is_postgres_url("postgresql://h/db") and is_postgres_url("POSTGRES://h/db")
    assert not is_postgres_url("") and not is_postgres_url("sqlite:///x")
    assert version_tuple("0.8.5") == (0, 8, 5) and version_tuple("0.7.4") < (0, 8, 0)


def test_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Any) -> None:
    url = f"postgresql://lore:topsecret@/lore?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreError) as caught:
        connection.connect(url)
    message = str(caught.value)
    assert "topsecret" not in message and "***" in message
    assert "Check that the server is running" in message


class FakeConn:
    """Answers the two extension queries the way a given server would."""

    def __init__(self, available: tuple[str, str | None] | None, installed: str) -> None:
        self.available, self.installed = available, installed

    def execute(self, sql: str, *args: object) -> FakeConn:
        self.last = sql
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        if "pg_available_extensions" in self.last:
            return self.available
        return (self.installed,)


def test_missing_pgvector_names_the_fix() -> None:
    with pytest.raises(StoreError, match="no pgvector extension.*Install pgvector 0.8"):
        connection._ensure_vector(FakeConn(None, ""), "postgresql://u:pw@h/db")


def test_old_pgvector_is_refused() -> None:
    with pytest.raises(StoreError, match=r"pgvector 0.7.4; lore needs 0.8.0.*ALTER EXTENSION"):
        connection._ensure_vector(FakeConn(("0.7.4", "0.7.4"), "0.7.4"), "postgresql://h/db")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from lore.errors import MissingDependencyError

    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"lore\[postgres\]"):
        connection.connect("postgresql://h/db")
