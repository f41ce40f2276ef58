"""``create_app``: the FastAPI application of ``lore serve``, built from routers.

The app is assembled from parts so that other front doors plug in with one
line each: lore's REST routes (``routes.router``), the OpenAI-compatible
routes (``openai_api.router``), the web page at ``/`` (``web.router``), MCP over
streamable HTTP at ``/mcp``, and any ``extra_routers`` passed in. Every route sits
behind the same :class:`~lore.server.security.Guard` and error handlers.
Tests build one app per test and call it without a port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from lore._optional import require
from lore.server.security import SecurityPolicy

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from lore.server.service import IndexService


def create_app(service: IndexService, *, policy: SecurityPolicy | None = None,
               mcp: bool = True, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The ASGI app serving ``service``.

    Args:
        service: the index to serve (the caller closes it).
        policy: what the guard lets through (default: loopback only, no token).
        mcp: mount MCP over streamable HTTP at ``/mcp``.
        extra_routers: more routers to include.

    Raises:
        MissingDependencyError: FastAPI (extra ``serve``) is not installed.
    """
    fastapi = require("fastapi", extra="serve", purpose="`lore serve`")
    from lore.server import cli_routes, openai_api, routes
    from lore.server.errors import install_error_handlers
    from lore.server.mcp_server import server_version
    from lore.server.security import Guard
    from lore.server.web.router import web_router

    mcp_server = None
    if mcp:
        from lore.server.mcp_server import build_mcp_server

        mcp_server = build_mcp_server(service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if mcp_server is None:
            yield
            return
        async with mcp_server.session_manager.run():
            yield

    app: FastAPI = fastapi.FastAPI(
        title="lore", version=server_version(), lifespan=lifespan,
        description="Search a folder of Markdown notes, backlog items and ADRs: lore's REST "
                    "API, OpenAI-compatible embeddings under /v1, and MCP at /mcp.")
    app.state.service = service
    app.include_router(routes.router)
    app.include_router(cli_routes.router)
    app.include_router(openai_api.router)
    app.include_router(web_router())
    for router in extra_routers:
        app.include_router(router)
    if mcp_server is not None:
        _mount_mcp(app, mcp_server)
    install_error_handlers(app)
    app.add_middleware(Guard, policy=policy or SecurityPolicy())
    return app


def _mount_mcp(app: FastAPI, mcp_server: object) -> None:
    """Add the MCP endpoint at exactly ``/mcp`` (no redirect to ``/mcp/``).

    The SDK's own Host/Origin check is off: the app-wide guard does it for
    every route, with the same allowed hosts.
    """
    security = require("mcp.server.transport_security", extra="serve", package="mcp")
    sub = mcp_server.streamable_http_app(  # type: ignore[attr-defined]
        streamable_http_path="/mcp",
        transport_security=security.TransportSecuritySettings(
            enable_dns_rebinding_protection=False))
    app.router.routes.extend(sub.routes)
