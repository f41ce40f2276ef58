"""Talk to a running ``lore serve`` from the CLI: find it, ask it, rebuild the answers.

A server writes ``server.json`` into the index folder (mode 0600: address,
token, pid, root) while it runs. ``lore search/show/related/status`` look
there first; when a live server serves the same root they send the request to
it (one loopback round trip to a warm process instead of loading the engine
and the model) and rebuild the library's own objects from the JSON, so the
output is formatted by the same code either way.

The console script's fast path (``lore.entry``) imports this module too, so it
stays cheap to import: the standard library's ``socket`` and ``json`` only. The
HTTP it speaks is the little a loopback JSON call needs (one request, a reply
with a Content-Length, keep-alive); ``http.client`` alone, with the email
parser and ssl it pulls in, would cost that process more than its round trip.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

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


class ServerInfo(NamedTuple):
    """What ``server.json`` says about a running server."""

    url: str
    token: str | None
    pid: int
    root: str


def write_server_file(index_dir: Path, info: ServerInfo) -> Path:
    """Write ``server.json`` (owner-only: it may hold the token) and return its path."""
    path = index_dir / SERVER_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(info._asdict(), out)
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
        # The server wrote the url itself: http://HOST:PORT, HOST maybe [v6].
        host, _, port = info.url.partition("://")[2].rstrip("/").rpartition(":")
        self._host = host.strip("[]") or "127.0.0.1"
        self._port = int(port) if port.isdigit() else 80
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._reply: IO[bytes] | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; its JSON reply.

        Raises:
            RemoteUnavailable: no answer, or an answer that is not JSON.
            RemoteError: the server answered with an error (status and message).
        """
        payload = b""
        if body is not None:
            payload = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.info.url.partition('://')[2]}",
                "Accept: application/json", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if self.info.token:
            head.append(f"Authorization: Bearer {self.info.token}")
        try:
            if self._sock is None:
                self._sock = socket.create_connection((self._host, self._port),
                                                      timeout=CONNECT_TIMEOUT_S)
                self._sock.settimeout(self._timeout_s)
                self._reply = self._sock.makefile("rb")
            self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            status, data = self._read_reply()
        except OSError as exc:
            self.close()
            raise RemoteUnavailable(f"{self.info.url}: {exc}") from exc
        try:
            reply = json.loads(data)
        except ValueError as exc:
            raise RemoteUnavailable(f"{self.info.url} answered with something not JSON") from exc
        if status >= 400:
            message = reply.get("error", {}).get("message", f"HTTP {status}")
            raise RemoteError(status, message)
        return reply

    def _read_reply(self) -> tuple[int, bytes]:
        """The status and body of the reply on the connection (Content-Length framed)."""
        assert self._reply is not None
        status_line = self._reply.readline(65_537).split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise ConnectionError("the server closed the connection or did not speak HTTP")
        length = None
        while (line := self._reply.readline(65_537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            raise ConnectionError("the reply had no Content-Length")
        data = self._reply.read(length)
        if len(data) < length:
            raise ConnectionError("the server closed the connection mid-reply")
        return int(status_line[1]), data

    def close(self) -> None:
        if self._reply is not None:
            self._reply.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reply = None


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
            reply = self._call("GET", "/documents/" + _quote(id_or_path))
        except _NotFound:
            return None
        return document_from_json(reply)

    def related_rows(self, id_or_path: str, *, depth: int = 1,
                     kinds: list[str] | None = None) -> list[dict[str, Any]]:
        """``LinkGraph.to_json`` of each neighbour, as ``lore related --json`` prints them."""
        from urllib.parse import urlencode

        from lore.errors import QueryError

        query = urlencode([("depth", depth)] + [("kind", k) for k in kinds or ()])
        try:
            reply = self._call("GET", f"/related/{_quote(id_or_path)}?{query}")
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
        return status_seen_from(self._call("GET", "/status"), self.info.url)

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


def status_seen_from(reply: dict[str, Any], url: str) -> dict[str, Any]:
    """``GET /status``'s reply as ``lore status`` shows it: the sync's age now, the address.

    The console script's fast path renders status in the server, which has the
    same reply but not the address the client reached it by, so both add it here.
    """
    last = reply.get("last_sync")
    reply["last_sync_age_s"] = round(time.time() - last, 1) if last else None
    reply["server"] = url
    return reply


def _quote(id_or_path: str) -> str:
    """``id_or_path`` escaped for a URL path (its slashes kept)."""
    from urllib.parse import quote

    return quote(id_or_path, safe="/")


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
