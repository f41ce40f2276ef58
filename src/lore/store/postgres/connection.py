"""Connecting to PostgreSQL: lazy imports, redacted URLs, errors that say what to do.

psycopg 3 and the ``pgvector`` adapter are optional (``pip install
'lore[postgres]'``) and imported only when a ``postgresql://`` store is opened.
Passwords never reach a message or a log line: every URL lore prints goes
through ``redact``, and driver errors (which may quote the connection string)
are re-raised with the redacted URL instead of their own text where they could
contain it.
"""

from __future__ import annotations

import re
from typing import Any

from lore._optional import require
from lore.errors import StoreError

MIN_PGVECTOR = (0, 8, 0)      # iterative index scans: filtered searches are never short
CONNECT_TIMEOUT_S = 10

_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*):[^@/\s]*@", re.IGNORECASE)
_PASSWORD_PARAM = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|[^\s&]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every password in a URL or ``password=`` parameter replaced by ``***``."""
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m.group('head')}:***@", text)
    return _PASSWORD_PARAM.sub(lambda m: f"{m.group('head')}***", text)


def is_postgres_url(value: str | None) -> bool:
    """Whether a ``store`` setting names a PostgreSQL server."""
    return bool(value) and str(value).lower().startswith(("postgresql://", "postgres://"))


def psycopg() -> Any:
    """The psycopg module, or a MissingDependencyError naming the extra."""
    return require("psycopg", extra="postgres", package="psycopg[binary]",
                   purpose="the PostgreSQL store")


def connect(url: str) -> Any:
    """An autocommit connection with pgvector registered, checked for a usable extension.

    Raises:
        StoreError: the server cannot be reached, refuses the login, or lacks a
            recent enough ``vector`` extension; the message names the fix.
        MissingDependencyError: psycopg or pgvector is not installed.
    """
    pg = psycopg()
    vector_adapter = require("pgvector.psycopg", extra="postgres", package="pgvector",
                             purpose="the PostgreSQL store")
    try:
        conn = pg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except pg.Error as exc:
        raise StoreError(f"Cannot connect to the PostgreSQL store {redact(url)}: "
                         f"{redact(str(exc)).strip()}. Check that the server is running and "
                         "that the URL (host, port, database, user) and password are right."
                         ) from None
    try:
        _ensure_vector(conn, url)
        vector_adapter.register_vector(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_vector(conn: Any, url: str) -> None:
    """Create the ``vector`` extension if it is available and check its version."""
    pg = psycopg()
    row = conn.execute("SELECT default_version, installed_version FROM pg_available_extensions "
                       "WHERE name = 'vector'").fetchone()
    if row is None:
        raise StoreError(f"The PostgreSQL server of {redact(url)} has no pgvector extension. "
                         "Install pgvector 0.8 or later on the server (e.g. the "
                         "postgresql-NN-pgvector package), then run lore again.")
    if row[1] is None:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except pg.Error as exc:
            raise StoreError(f"pgvector is available on {redact(url)} but not enabled, and "
                             f"this user cannot enable it ({redact(str(exc)).strip()}). Ask an "
                             "administrator to run CREATE EXTENSION vector in that database."
                             ) from None
    installed = conn.execute("SELECT extversion FROM pg_extension "
                             "WHERE extname = 'vector'").fetchone()[0]
    if version_tuple(installed) < MIN_PGVECTOR:
        raise StoreError(f"{redact(url)} has pgvector {installed}; lore needs 0.8.0 or later "
                         "(filtered vector searches rely on iterative index scans). Upgrade "
                         "the extension: ALTER EXTENSION vector UPDATE.")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.8.5"`` -> ``(0, 8, 5)``; non-numeric parts count as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split(".")[:3])
