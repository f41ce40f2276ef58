"""The web page's routes: the static page itself and the few views only a page needs.

Search, status and documents come from the server's REST API; this router
adds what a person's page needs beyond it: facet counts, a document rendered
as safe HTML with its links both ways, the link picture, and a re-index with
progress to poll. Every static asset ships inside the package (no CDN, no
build step), and every page response carries a Content-Security-Policy that
allows nothing outside the server's own origin and no inline script, so even
a rendering bug could not run a document's script or call another host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lore.errors import LoreError
from lore.server.errors import ApiError
from lore.server.schemas import ERROR_RESPONSES
from lore.server.web.facets import compute_facets
from lore.server.web.jobs import Progress, ReindexJob
from lore.server.web.views import document_view, link_picture

if TYPE_CHECKING:
    from lore.index import Index
    from lore.server.service import IndexService
    from lore.store.records import DocumentRecord

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "graph.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
FACET_DEPTH = 200   # facets count the top hits of the query, as far as a person would page


class FacetsRequest(BaseModel):
    """The current query, as the page holds it."""

    query: str = Field("", max_length=2000)
    mode: Literal["hybrid", "keyword", "vector"] | None = None
    filters: dict[str, list[str]] = Field(default_factory=dict)


def _asset(name: str) -> bytes:
    return resources.files("lore.server.web").joinpath("static").joinpath(name).read_bytes()


def _page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


def _record(index: Index, ref: str) -> DocumentRecord:
    found = index.get(ref)
    if found is None:
        raise ApiError(404, f"No indexed document has the id, uid or path {ref!r}; "
                            "find it with the search box.", code="document_not_found")
    return found


def web_router() -> APIRouter:
    """Routes for the page: ``/`` and ``/assets/*`` plus its JSON views under ``/web``.

    The routes read the app's ``IndexService`` (``app.state.service``), like
    the REST routes: each request borrows a reader pinned to the last sync.
    """
    router = APIRouter(responses=ERROR_RESPONSES)
    jobs: dict[int, ReindexJob] = {}

    def service_of(request: Request) -> IndexService:
        service: IndexService = request.app.state.service
        return service

    def job_of(service: IndexService) -> ReindexJob:
        def body(progress: Progress) -> dict[str, Any]:
            report = service.sync(
                lambda done, total, _path: progress("files", done, total),
                embed_progress=lambda done, total: progress("vectors", done, total))
            return report.to_dict()

        return jobs.setdefault(id(service), ReindexJob(body))

    @router.get("/", include_in_schema=False)
    def page() -> Response:
        return Response(_asset("index.html"), media_type="text/html; charset=utf-8",
                        headers=_page_headers())

    @router.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise ApiError(404, f"No asset named {name!r}.", code="not_found")
        return Response(_asset(name), media_type=_ASSETS[name], headers=_page_headers())

    @router.post("/web/facets", tags=["web"])
    def facets(body: FacetsRequest, request: Request) -> dict[str, Any]:
        """Facet values with counts for the current query (disjunctive per key)."""
        with service_of(request).reader() as index:
            def metadata_of_hits(filters: Mapping[str, Sequence[str]]) -> list[Mapping[str, Any]]:
                if not body.query.strip() and not filters:
                    return []
                hits = index.search(body.query, limit=FACET_DEPTH, mode=body.mode,
                                    filters={k: list(v) for k, v in filters.items()})
                return [hit.metadata for hit in hits]

            try:
                found = compute_facets(metadata_of_hits, body.filters)
            except LoreError as exc:
                raise ApiError(400, str(exc), code="bad_query") from exc
        return {"facets": {key: [value.to_json() for value in values]
                           for key, values in found.items()}}

    @router.get("/web/document", tags=["web"])
    def document(request: Request, ref: str = Query(..., min_length=1, max_length=1000)
                 ) -> dict[str, Any]:
        """One document for reading: safe HTML, front matter, typed links both ways, worklog."""
        with service_of(request).reader() as index:
            return document_view(index, _record(index, ref))

    @router.get("/web/graph", tags=["web"])
    def graph(request: Request, ref: str = Query(..., min_length=1, max_length=1000),
              depth: int = Query(1, ge=1, le=2)) -> dict[str, Any]:
        """The document's link neighbourhood as nodes and typed edges."""
        with service_of(request).reader() as index:
            return link_picture(index, _record(index, ref), depth)

    @router.post("/web/reindex", tags=["web"], status_code=202)
    def reindex(request: Request) -> dict[str, Any]:
        """Start a background re-index (409 when one is running); poll GET for progress."""
        job = job_of(service_of(request))
        if not job.start():
            raise ApiError(409, "A re-index is already running; its progress is at "
                                "GET /web/reindex.", code="reindex_running")
        return job.state()

    @router.get("/web/reindex", tags=["web"])
    def reindex_state(request: Request) -> dict[str, Any]:
        """Progress of the running re-index, or what the last one did."""
        return job_of(service_of(request)).state()

    return router
