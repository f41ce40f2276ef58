"""``lore serve``, ``lore mcp`` and ``lore watch``: one warm process for agents and tools.

The commands parse flags, build an ``IndexService`` (``lore.server.service``)
and hand it to uvicorn, to the MCP stdio transport, or to a ``Watcher``.
FastAPI, uvicorn, the ``mcp`` SDK and watchfiles come with the ``serve``
extra and are imported only here, inside the commands.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lore.cli._common import index_dir_option, load_cli_settings, store_option

if TYPE_CHECKING:
    from lore.server.service import IndexService
    from lore.watch import Watcher

root_argument = click.argument("root", type=click.Path(path_type=Path, file_okay=False),
                               envvar="LORE_ROOT", default=".", required=False)
log = logging.getLogger(__name__)


@click.command()
@root_argument
@index_dir_option
@store_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token-env.")
@click.option("--port", type=click.IntRange(0, 65535), default=8321, show_default=True,
              help="Port to listen on (0: any free port; the address is printed).")
@click.option("--token-env", metavar="VAR", default=None,
              help="Read the bearer token that every request must send from this "
                   "environment variable.")
@click.option("--watch", "watch_files", is_flag=True,
              help="Re-index changed files as they are saved.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also accept this Host/Origin name (e.g. a name that resolves to this "
                   "machine). Repeatable.")
@click.option("--rate-limit", type=click.FloatRange(min=0), default=50.0, show_default=True,
              help="Requests per second per client, with bursts of twice that (0: no limit).")
@click.option("--max-body", type=click.IntRange(min=1024), default=1_048_576,
              show_default=True, help="Largest request body in bytes.")
@click.option("--readers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Requests answered at the same time.")
@click.option("--debug", is_flag=True,
              help="Debug logging (may include query text; off by default).")
def serve(root: Path, index_dir: Path | None, host: str, port: int, token_env: str | None,
          watch_files: bool, allow_hosts: tuple[str, ...], rate_limit: float, max_body: int,
          readers: int, debug: bool) -> None:
    """Serve the index of ROOT over HTTP: REST, OpenAI-compatible /v1, MCP at /mcp.

    Syncs the index once at start (as `lore index` would), then answers from
    a warm process. While it runs, `lore search/show/related/status` for ROOT
    go through it. Listens on 127.0.0.1 unless told otherwise.

    \b
    Examples:
      lore serve ~/notes --watch
      lore serve ~/notes --port 0
      LORE_TOKEN=$(openssl rand -hex 16) lore serve ~/notes --host 0.0.0.0 --token-env LORE_TOKEN
      curl -s localhost:8321/search -H 'content-type: application/json' -d '{"query":"adr"}'
    """
    from lore._optional import require

    uvicorn = require("uvicorn", extra="serve", purpose="`lore serve`")
    from lore.remote import ServerInfo, remove_server_file, write_server_file
    from lore.server.app import create_app
    from lore.server.security import SecurityPolicy

    token = _token(token_env)
    try:
        policy = SecurityPolicy.for_bind(host, token=token, extra_hosts=allow_hosts,
                                         rate_per_s=rate_limit, burst=max(1, int(rate_limit * 2)),
                                         max_body_bytes=max_body)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    _configure_logging(debug)
    sock = _bind(host, port)
    service = _open_service(root, index_dir, readers)
    watcher = _start_watcher(service) if watch_files else None
    bound_port = sock.getsockname()[1]
    url = f"http://{_url_host(host)}:{bound_port}"
    server_file = write_server_file(service.index_dir, ServerInfo(
        url=url, token=token, pid=os.getpid(), root=str(service.root)))
    click.echo(f"lore serving {service.root} at {url} (MCP: {url}/mcp)"
               f"{' watching for changes' if watcher else ''}", err=True)
    try:
        app = create_app(service, policy=policy)
        config = uvicorn.Config(app, log_level="debug" if debug else "warning",
                                access_log=debug, lifespan="on", timeout_graceful_shutdown=5)
        # uvicorn re-raises SIGTERM after a graceful shutdown, under the handler
        # found at start: make that an exit, so the cleanup below still runs.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stop()
        remove_server_file(service.index_dir, os.getpid())
        service.close()
        log.debug("removed %s", server_file)


@click.command("mcp")
@root_argument
@index_dir_option
@store_option
@click.option("--watch", "watch_files", is_flag=True,
              help="Re-index changed files as they are saved.")
def mcp_command(root: Path, index_dir: Path | None, watch_files: bool) -> None:
    """Serve the index of ROOT to an MCP client over stdio.

    The client starts this command itself; see the README for ready-to-paste
    configurations. Logs go to stderr, the protocol to stdout.

    \b
    Examples:
      lore mcp ~/notes
      lore mcp ~/notes --watch
    """
    from lore.server.mcp_server import build_mcp_server

    _configure_logging(False)
    service = _open_service(root, index_dir, readers=2)
    watcher = _start_watcher(service) if watch_files else None
    try:
        build_mcp_server(service).run("stdio")
    finally:
        if watcher is not None:
            watcher.stop()
        service.close()


@click.command()
@root_argument
@index_dir_option
def watch(root: Path, index_dir: Path | None) -> None:
    """Keep the index of ROOT up to date as files change (Ctrl-C stops).

    Syncs once at start, then after each burst of file events (a save, a
    `git checkout`); one line per sync.

    \b
    Examples:
      lore watch ~/notes
    """
    from lore.cli._common import open_cli_index
    from lore.watch import Watcher

    _configure_logging(False)
    with open_cli_index(root, index_dir, create=True) as idx:
        lock = threading.Lock()

        def sync() -> None:
            with lock:
                report = idx.sync()
            click.echo(f"synced: {len(report.added)} added, {len(report.updated)} updated, "
                       f"{len(report.removed)} removed, {len(report.renamed)} renamed "
                       f"({report.duration:.2f} s)", err=True)

        sync()
        click.echo(f"watching {idx.root} (Ctrl-C stops)", err=True)
        try:
            Watcher(idx.root, idx.index_dir, sync).run()
        except KeyboardInterrupt:
            pass


def _open_service(root: Path, index_dir: Path | None, readers: int) -> IndexService:
    """Sync ROOT's index and return the service over it."""
    from lore.server.service import IndexService

    root = root.expanduser().absolute()
    service = IndexService(root, load_cli_settings(root), index_dir, readers=readers)
    report = service.sync()
    click.echo(f"index up to date: {len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.removed)} removed", err=True)
    return service


def _start_watcher(service: IndexService) -> Watcher:
    from lore.watch import Watcher

    return Watcher(service.root, service.index_dir, service.sync).start()


def _token(token_env: str | None) -> str | None:
    if token_env is None:
        return None
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise click.UsageError(
            f"--token-env {token_env}: the variable is empty or unset; export "
            f"{token_env}=<secret> (e.g. {secrets.token_hex(16)}) and start again.")
    return token


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (so port 0 resolves before anything is announced)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise click.UsageError(f"Cannot listen on {host}:{port} ({exc.strerror}); pick another "
                               "--port, or --port 0 for any free one.") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _configure_logging(debug: bool) -> None:
    """lore's own INFO lines (syncs, refusals: no document or query text) on stderr.

    Other libraries log at WARNING unless --debug, which also shows request
    lines and may carry query text.
    """
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("lore").setLevel(logging.DEBUG if debug else logging.INFO)
