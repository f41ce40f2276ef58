"""``POST /cli/{command}``: what ``lore search/show/related/status`` would print, rendered here.

The ``lore`` console script (``lore.entry``) sends a command's parsed flags to
a running server and prints the reply. Each route renders with the command's
own printing code (the ``write_*`` functions the click commands call) into
buffers, and returns stdout, stderr and the exit status, so the script needs
neither the engine nor click nor rich, and its output is the in-process output.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from lore.server.routes import Service
from lore.server.schemas import (
    ERROR_RESPONSES,
    CliRelatedRequest,
    CliResponse,
    CliSearchRequest,
    CliShowRequest,
    CliStatusRequest,
    StatusResponse,
)

if TYPE_CHECKING:
    from lore.cli._common import Reader
    from lore.cli._output import Printer
    from lore.server.service import IndexService

router = APIRouter(prefix="/cli", tags=["cli"], responses=ERROR_RESPONSES)


@router.post("/search", response_model=CliResponse)
def cli_search(body: CliSearchRequest, service: Service) -> dict[str, Any]:
    """What ``lore search`` prints; exit status 1 for ``fail_empty`` when nothing matched."""
    from lore.cli._search_answer import SearchCall, write_answer

    call = SearchCall(body.query, limit=body.limit, filters=body.filters or {},
                      chunks=body.chunks, mode=body.mode, explain=body.explain,
                      expand=body.expand, context=body.context or body.budget is not None,
                      budget=body.budget)

    def render(idx: Reader, printer: Printer) -> int:
        answer = call.run(idx)
        write_answer(answer, printer, as_json=body.json_output, explain=body.explain)
        return 1 if body.fail_empty and not answer.found else 0

    return _rendered(service, body.width, render)


@router.post("/show", response_model=CliResponse)
def cli_show(body: CliShowRequest, service: Service) -> dict[str, Any]:
    """What ``lore show`` prints (an unknown or ambiguous id: its error, exit status 1)."""
    from lore.cli.doc_cmds import read_document, write_document

    def render(idx: Reader, printer: Printer) -> int:
        record, stale = read_document(body.id_or_path, idx)
        write_document(printer, record, stale=stale, as_json=body.json_output)
        return 0

    return _rendered(service, body.width, render)


@router.post("/related", response_model=CliResponse)
def cli_related(body: CliRelatedRequest, service: Service) -> dict[str, Any]:
    """What ``lore related`` prints."""
    from lore.cli.doc_cmds import related_rows, write_related

    def render(idx: Reader, printer: Printer) -> int:
        rows = related_rows(body.id_or_path, idx, depth=body.depth, kinds=body.kinds)
        write_related(printer, body.id_or_path, rows, as_json=body.json_output)
        return 0

    return _rendered(service, body.width, render)


@router.post("/status", response_model=CliResponse)
def cli_status(body: CliStatusRequest, service: Service) -> dict[str, Any]:
    """What ``lore status`` prints when it asks this server (``GET /status`` as the CLI sees it)."""
    from lore.cli.index_cmds import write_status
    from lore.remote import status_seen_from

    reply = StatusResponse.model_validate(service.status()).model_dump(mode="json",
                                                                        by_alias=True)
    info = status_seen_from(reply, body.server)

    def render(idx: Reader, printer: Printer) -> int:
        write_status(printer, info, idx.warnings(), as_json=body.json_output,
                     show_warnings=body.warnings)
        return 0

    return _rendered(service, body.width, render)


def _rendered(service: IndexService, width: int,
              render: Callable[[Reader, Printer], int]) -> dict[str, Any]:
    """Run ``render`` on a reader with buffers for streams; a click error as click prints it."""
    import click

    from lore.cli._output import Printer, make_console

    out, err = io.StringIO(), io.StringIO()
    printer = Printer(make_console(file=out, width=width), out=out, err=err)
    with service.reader() as idx:
        try:
            code = render(idx, printer)
        except click.ClickException as exc:
            exc.show(file=err)
            code = exc.exit_code
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code}
