"""Talk to a running ``lore serve`` from the CLI: find it, ask it, rebuild the answers.

A server writes ``server.json`` into the index folder (mode 0600: address,
token, pid, root) while it runs. ``lore search/show/related/status`` look
there first; when a live server serves the same root they send the request to
it (one loopback round trip to a warm process instead of loading the engine
and the model) and rebuild the library's own objects from the JSON, so the
output is formatted by the same code either way. Only the standard library's
``http.client`` is used here, to keep the client's start-up cheap.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

if TYPE_CHECKING:
    from typing_extensions import Self

    from lore.search.expand import ContextPack
    from lore.search.hits import Hit, SearchResult
    from lore.settings import Settings
    from lore.store.records import DocumentRecord

SERVER_FILE = "server.json"
CONNECT_TIMEOUT_S = 0.5


class RemoteUnavailable(Exception):
    """The server named in server.json did not answer; the caller runs in-process."""


class RemoteError(Exception):
    """The server answered with an HTTP error (its status and OpenAI-shaped message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServerInfo:
    """What ``server.json`` says about a running server."""

    url: str
    token: str | None
    pid: int
    root: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "token": self.token, "pid": self.pid, "root": self.root}


def write_server_file(index_dir: Path, info: ServerInfo) -> Path:
    """Write ``server.json`` (owner-only: it may hold the token) and return its path."""
    path = index_dir / SERVER_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(info.to_json(), out)
    os.replace(tmp, path)
    return path


def remove_server_file(index_dir: Path, pid: int) -> None:
    """Remove ``server.json`` if it still names the process ``pid``."""
    found = read_server_file(index_dir)
    if found is not None and found.pid == pid:
        (index_dir / SERVER_FILE).unlink(missing_ok=True)


def read_server_file(index_dir: Path) -> ServerInfo | None:
    """The server named in ``index_dir``, or None when there is none or it is unreadable."""
    try:
        raw = json.loads((index_dir / SERVER_FILE).read_text(encoding="utf-8"))
        return ServerInfo(url=str(raw["url"]), token=raw.get("token") or None,
                          pid=int(raw["pid"]), root=str(raw["root"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_server(root: Path, index_dir: Path, settings: Settings) -> RemoteIndex | None:
    """A client for the live server serving ``root`` from ``index_dir``, if there is one.

    Args:
        root: the folder of documents (absolute).
        index_dir: its index folder, where the server keeps ``server.json``.
        settings: the settings of ``root`` as loaded here (the server loaded the same).
    """
    info = live_server(root, index_dir)
    return None if info is None else RemoteIndex(info, settings)


def live_server(root: Path, index_dir: Path) -> ServerInfo | None:
    """What ``index_dir/server.json`` says, if its process is alive and serves ``root``."""
    info = read_server_file(index_dir)
    if info is None or Path(info.root) != root or not _alive(info.pid):
        return None
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ServerConnection:
    """One keep-alive loopback connection to a server; a JSON request per ``call``."""

    def __init__(self, info: ServerInfo, *, timeout_s: float = 60.0) -> None:
        self.info = info
        parts = urlsplit(info.url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; its JSON reply.

        Raises:
            RemoteUnavailable: no answer, or an answer that is not JSON.
            RemoteError: the server answered with an error (status and message).
        """
        headers = {"Host": f"{self._host}:{self._port}", "Accept": "application/json"}
        if self.info.token:
            headers["Authorization"] = f"Bearer {self.info.token}"
        payload = None
        if body is not None:
            payload = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
            headers["Content-Type"] = "application/json"
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=CONNECT_TIMEOUT_S)
                self._conn.connect()
                self._conn.sock.settimeout(self._timeout_s)
            self._conn.request(method, path, body=payload, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
        except OSError as exc:
            raise RemoteUnavailable(f"{self.info.url}: {exc}") from exc
        try:
            reply = json.loads(data)
        except ValueError as exc:
            raise RemoteUnavailable(f"{self.info.url} answered with something not JSON") from exc
        if response.status >= 400:
            message = reply.get("error", {}).get("message", f"HTTP {response.status}")
            raise RemoteError(response.status, message)
        return reply

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class RemoteIndex:
    """The read side of ``Index`` (search, context, get, related, status) over HTTP."""

    def __init__(self, info: ServerInfo, settings: Settings, *,
                 timeout_s: float = 60.0) -> None:
        self.info = info
        self.settings = settings
        self.root = Path(info.root)
        self._server = ServerConnection(info, timeout_s=timeout_s)

    def search(self, query: str, *, limit: int | None = None,
               filters: dict[str, list[str]] | None = None, chunks: bool = False,
               mode: str | None = None, explain: bool = False, force: bool = False,
               expand: bool = False) -> SearchResult:
        """As ``Index.search``; ``force`` is not available through a server."""
        from lore.search.hits import SearchResult

        if force:
            raise RemoteUnavailable("--force needs the engine in-process")
        reply = self._call("POST", "/search", {
            "query": query, "limit": limit, "filters": filters, "chunks": chunks,
            "mode": mode, "explain": explain, "expand": expand})
        return SearchResult([hit_from_json(row) for row in reply["hits"]],
                            reply.get("notices", []), weak_match=bool(reply.get("weak_match")))

    def context(self, query: str, *, budget: int | None = None, limit: int | None = None,
                filters: dict[str, list[str]] | None = None,
                mode: str | None = None) -> ContextPack:
        """As ``Index.context``."""
        from lore.search.expand import ContextItem, ContextPack

        reply = self._call("POST", "/context", {"query": query, "budget": budget,
                                                "limit": limit, "filters": filters,
                                                "mode": mode})
        return ContextPack(budget=reply["budget"], used=reply["used_tokens"],
                           omitted=reply["omitted"],
                           items=[ContextItem(**item) for item in reply["items"]],
                           notices=list(reply.get("notices", [])))

    def get(self, id_or_path: str) -> DocumentRecord | None:
        """As ``Index.get`` (None when the server has no such document)."""
        try:
            reply = self._call("GET", "/documents/" + quote(id_or_path, safe="/"))
        except _NotFound:
            return None
        return document_from_json(reply)

    def related_rows(self, id_or_path: str, *, depth: int = 1,
                     kinds: list[str] | None = None) -> list[dict[str, Any]]:
        """``LinkGraph.to_json`` of each neighbour, as ``lore related --json`` prints them."""
        from lore.errors import QueryError

        query = urlencode([("depth", depth)] + [("kind", k) for k in kinds or ()])
        try:
            reply = self._call("GET", f"/related/{quote(id_or_path, safe='/')}?{query}")
        except _NotFound as exc:
            raise QueryError(str(exc)) from exc
        rows: list[dict[str, Any]] = reply["neighbours"]
        return rows

    def duplicate_ids(self) -> dict[str, list[str]]:
        """As ``Index.duplicate_ids``."""
        ids: dict[str, list[str]] = self.warnings()["duplicate_ids"]
        return ids

    def warnings(self) -> dict[str, Any]:
        """As ``Index.warnings``: each file's warnings and the ids several files share."""
        reply = self._call("GET", "/warnings")
        return {"files": [(w["path"], w["message"]) for w in reply["files"]],
                "duplicate_ids": reply["duplicate_ids"]}

    def status(self) -> dict[str, Any]:
        """As ``Index.status``, plus the server's generation and address."""
        reply = self._call("GET", "/status")
        last = reply.get("last_sync")
        reply["last_sync_age_s"] = round(time.time() - last, 1) if last else None
        reply["server"] = self.info.url
        return reply

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; a lore error reply is raised as the matching ``LoreError``."""
        from lore.errors import QueryError

        try:
            return self._server.call(method, path, body)
        except RemoteError as exc:
            if exc.status == 404 and path.startswith(("/documents/", "/related/")):
                raise _NotFound(exc.message) from exc
            if exc.status in (400, 409, 422):
                raise QueryError(exc.message) from exc
            raise RemoteUnavailable(f"{self.info.url}: {exc.message}") from exc


class _NotFound(Exception):
    pass


def hit_from_json(row: dict[str, Any]) -> Hit:
    """A ``Hit`` rebuilt from ``Hit.to_json`` output."""
    from lore.search.hits import ChunkInfo, Hit

    chunk = row["chunk"]
    return Hit(path=row["path"], doc_id=row["doc_id"], title=row["title"], score=row["score"],
               snippet=row["snippet"],
               highlights=tuple((int(a), int(b)) for a, b in row["highlights"]),
               metadata=row["metadata"], doctype=row["doctype"],
               chunk=ChunkInfo(chunk["ordinal"], tuple(chunk["heading_path"]), chunk["kind"]),
               explain=row.get("explain"),
               via=tuple((v["kind"], v["from"]) for v in row.get("via", [])),
               also_at=tuple(row.get("also_at", ())), vector_only=bool(row.get("vector_only")),
               hub=bool(row.get("hub")))


def document_from_json(row: dict[str, Any]) -> DocumentRecord:
    """A ``DocumentRecord`` rebuilt from ``DocumentRecord.to_dict`` output."""
    from lore.documents.model import Link
    from lore.store.records import ChunkRecord, DocumentRecord

    return DocumentRecord(
        id=row["id"], path=row["path"], doc_id=row["doc_id"], uid=row["uid"],
        title=row["title"], doctype=row["doctype"], metadata=row["metadata"],
        links=tuple(Link(link["kind"], link["target"]) for link in row["links"]),
        body=row["body"], content_hash=row["content_hash"], size=row["size"],
        mtime_ns=row["mtime_ns"], indexed_at=row["indexed_at"],
        chunks=tuple(ChunkRecord(id=c["id"], ordinal=c["ordinal"], kind=c["kind"],
                                 heading_path=tuple(c["heading_path"]), text=c["text"],
                                 token_estimate=c["token_estimate"]) for c in row["chunks"]))
