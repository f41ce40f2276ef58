"""lore's own REST routes: search, context, documents, related, index, status, health.

Each route validates (pydantic), borrows a reader from the ``IndexService``,
calls one ``Index`` method and returns the library's JSON shape. The routes
are plain ``def`` functions: FastAPI runs them in its thread pool, and the
service hands each request its own pinned reader.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from lore.server.errors import ApiError
from lore.server.schemas import (
    ERROR_RESPONSES,
    ContextRequest,
    ContextResponse,
    DocumentModel,
    HealthResponse,
    RelatedResponse,
    SearchRequest,
    SearchResponse,
    StatusResponse,
    SyncResponse,
    WarningsResponse,
)
from lore.server.service import IndexService

router = APIRouter(responses=ERROR_RESPONSES)

EdgeKind = Literal["parent", "child", "blocks", "blocked_by", "relates", "decision", "decides",
                   "wiki", "markdown", "backlink"]
MAX_DEPTH = 5


async def get_service(request: Request) -> IndexService:
    """The app's ``IndexService`` (a FastAPI dependency).

    ``async`` so FastAPI calls it on the event loop: a plain ``def`` dependency
    costs every request one more trip through the thread pool.
    """
    service: IndexService = request.app.state.service
    return service


Service = Annotated[IndexService, Depends(get_service)]


@router.post("/search", response_model=SearchResponse, tags=["search"])
def search(body: SearchRequest, service: Service) -> dict[str, Any]:
    """Ranked hits for a query, as ``lore search --json`` prints them."""
    with service.reader() as idx:
        result = idx.search(body.query, limit=body.limit, filters=body.filters,
                            chunks=body.chunks, mode=body.mode, explain=body.explain,
                            expand=body.expand)
    return {"hits": [hit.to_json() for hit in result], "notices": list(result.notices),
            "weak_match": result.weak_match, "generation": service.generation}


@router.post("/context", response_model=ContextResponse, tags=["search"])
def context(body: ContextRequest, service: Service) -> dict[str, Any]:
    """The best passages plus their parents and decisions, within a token budget."""
    with service.reader() as idx:
        pack = idx.context(body.query, budget=body.budget, limit=body.limit,
                           filters=body.filters, mode=body.mode)
    return pack.to_json()


@router.get("/documents/{id_or_path:path}", response_model=DocumentModel, tags=["documents"])
def document(id_or_path: Annotated[str, Path(min_length=1, max_length=1000)],
             service: Service) -> dict[str, Any]:
    """One indexed document by doc id, uid or root-relative path."""
    with service.reader() as idx:
        record = idx.get(id_or_path)
    if record is None:
        raise ApiError(404, f"No indexed document has the id, uid or path {id_or_path!r}; "
                            "find it with POST /search.", code="document_not_found")
    return record.to_dict()


@router.get("/related/{id_or_path:path}", response_model=RelatedResponse, tags=["documents"])
def related(id_or_path: Annotated[str, Path(min_length=1, max_length=1000)],
            service: Service,
            depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
            kind: Annotated[list[EdgeKind] | None, Query()] = None) -> dict[str, Any]:
    """Documents linked to one document within ``depth`` hops, nearest first."""
    with service.reader() as idx:
        if idx.get(id_or_path) is None:
            raise ApiError(404, f"No indexed document has the id, uid or path {id_or_path!r}; "
                                "find it with POST /search.", code="document_not_found")
        neighbours = idx.related(id_or_path, depth=depth, kinds=list(kind) if kind else None)
    return {"id": id_or_path, "neighbours": [n.to_json() for n in neighbours]}


@router.post("/index", response_model=SyncResponse, tags=["index"])
def reindex(service: Service) -> dict[str, Any]:
    """Run an incremental sync now and return what changed."""
    return service.sync().to_dict()


@router.get("/status", response_model=StatusResponse, tags=["index"])
def status(service: Service) -> dict[str, Any]:
    """What the index holds, when it was last synced, and the served generation."""
    return service.status()


@router.get("/warnings", response_model=WarningsResponse, tags=["index"])
def warnings(service: Service) -> dict[str, Any]:
    """Problems with indexed files that did not stop indexing, and ids shared by several files."""
    with service.reader() as idx:
        found = idx.warnings()
    return {"files": [{"path": path, "message": message} for path, message in found["files"]],
            "duplicate_ids": found["duplicate_ids"]}


@router.get("/healthz", response_model=HealthResponse, tags=["index"])
def healthz() -> dict[str, str]:
    """Liveness: answers without touching the index (and without a token)."""
    return {"status": "ok"}
