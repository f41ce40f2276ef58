"""The JSON shapes of lore's REST API, as pydantic models (they are the OpenAPI schema).

Requests are strict about sizes (a query, a filter list, a limit), so bad
input is a 4xx before it reaches the index. Responses mirror the library's
stable JSON (``Hit.to_json``, ``DocumentRecord.to_dict``, ``SyncReport.to_dict``),
so the CLI, the web page and scripts read one shape whichever way they ask.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUERY_CHARS = 2_000
MAX_LIMIT = 100
MAX_BUDGET = 50_000

Mode = Literal["keyword", "vector", "hybrid"]
Filters = dict[str, list[str]]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Request):
    """``POST /search``: the arguments of ``lore search``."""

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS,
                       description="Free text; may hold inline filters (type:ADR) and ids.")
    mode: Mode | None = Field(None, description="Which legs rank [default: search.mode].")
    filters: Filters | None = Field(
        None, max_length=20,
        description="Front matter field -> accepted values (case-insensitive); keys AND, "
                    "values OR.")
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT, description="How many hits.")
    expand: bool = Field(False, description="Append documents linked to the top hits.")
    explain: bool = Field(False, description="Attach legs, ranks and boosts to each hit.")
    chunks: bool = Field(False, description="One hit per chunk instead of per document.")


class _CliRequest(_Request):
    """What every ``POST /cli/{command}`` takes beside the command's own flags."""

    json_output: bool = Field(False, alias="json", description="Print the JSON output.")
    width: int = Field(100, ge=20, le=1000, description="Columns the text must fit.")


class CliSearchRequest(SearchRequest, _CliRequest):
    """``POST /cli/search``: ``lore search``'s flags, for the console script's fast path."""

    context: bool = Field(False, description="Print a context pack instead of hits.")
    budget: int | None = Field(None, ge=1, le=MAX_BUDGET,
                               description="Token budget of the context pack.")
    fail_empty: bool = Field(False, description="Exit status 1 when nothing matched.")


class CliShowRequest(_CliRequest):
    """``POST /cli/show``: ``lore show``'s argument and flags."""

    id_or_path: str = Field(min_length=1, max_length=1000,
                            description="A doc id, uid, root-relative or absolute path.")


class CliRelatedRequest(CliShowRequest):
    """``POST /cli/related``: ``lore related``'s argument and flags."""

    depth: int = Field(1, ge=1, le=1000, description="How many link hops to follow.")
    kinds: list[str] = Field(default_factory=list, max_length=20,
                             description="Only follow these edge kinds.")


class CliStatusRequest(_CliRequest):
    """``POST /cli/status``: ``lore status``'s flags."""

    warnings: bool = Field(False, description="List every warning instead.")
    server: str = Field(max_length=200, description="The server's address as the client reached "
                                                    "it (the status output names it).")


class CliResponse(BaseModel):
    stdout: str = Field(description="Exactly what the command prints on stdout.")
    stderr: str = Field(description="What it prints on stderr (notices, errors).")
    code: int = Field(description="Its exit status.")


class ContextRequest(_Request):
    """``POST /context``: a context pack for an agent."""

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    budget: int | None = Field(None, ge=1, le=MAX_BUDGET,
                               description="Token budget [default: graph.context_tokens].")
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT)
    filters: Filters | None = Field(None, max_length=20)
    mode: Mode | None = None


class ChunkModel(BaseModel):
    ordinal: int
    heading_path: list[str]
    kind: str


class ViaModel(BaseModel):
    kind: str
    from_: str = Field(alias="from")

    model_config = ConfigDict(populate_by_name=True)


class HitModel(BaseModel):
    """One search result (``Hit.to_json``)."""

    path: str
    doc_id: str
    title: str
    doctype: str
    score: float
    snippet: str
    highlights: list[list[int]]
    metadata: dict[str, Any]
    chunk: ChunkModel
    explain: dict[str, Any] | None = None
    via: list[ViaModel] = []
    also_at: list[str] = Field(default=[], description="Paths of near-identical copies.")
    vector_only: bool = Field(default=False, description="Found by meaning alone.")
    hub: bool = Field(default=False, description="A page that mostly lists links.")


class SearchResponse(BaseModel):
    hits: list[HitModel]
    notices: list[str] = Field(description="Why the search ran degraded, if it did.")
    weak_match: bool = Field(default=False, description="Nothing matched the query strongly.")
    generation: int = Field(description="Which synced state answered.")


class ContextItemModel(BaseModel):
    role: str
    doc_id: str
    path: str
    title: str
    text: str
    tokens: int
    via: str | None = None


class ContextResponse(BaseModel):
    budget: int
    used_tokens: int
    omitted: int
    items: list[ContextItemModel]
    notices: list[str] = []


class LinkModel(BaseModel):
    kind: str
    target: str


class ChunkRecordModel(BaseModel):
    id: int
    ordinal: int
    kind: str
    heading_path: list[str]
    text: str
    token_estimate: int


class DocumentModel(BaseModel):
    """One indexed document (``DocumentRecord.to_dict``)."""

    id: int
    path: str
    doc_id: str
    uid: str | None
    title: str
    doctype: str
    metadata: dict[str, Any]
    links: list[LinkModel]
    body: str
    content_hash: str
    size: int
    mtime_ns: int
    indexed_at: float
    chunks: list[ChunkRecordModel]


class NeighbourModel(BaseModel):
    path: str
    doc_id: str
    title: str
    doctype: str
    depth: int
    via: list[ViaModel]


class RelatedResponse(BaseModel):
    id: str
    neighbours: list[NeighbourModel]


class RenameModel(BaseModel):
    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(populate_by_name=True)


class SkippedModel(BaseModel):
    path: str
    reason: str


class WarningModel(BaseModel):
    path: str
    message: str


class SyncResponse(BaseModel):
    """What one incremental sync changed (``SyncReport.to_dict``)."""

    added: list[str]
    updated: list[str]
    removed: list[str]
    renamed: list[RenameModel]
    unchanged: int
    skipped: list[SkippedModel]
    warnings: list[WarningModel]
    new_chunks: int
    duration_s: float
    vectors: dict[str, Any] | None
    notices: list[str]


class WarningsResponse(BaseModel):
    """``lore status --warnings``: per-file warnings and ids several files share."""

    files: list[WarningModel]
    duplicate_ids: dict[str, list[str]]


class StatusResponse(BaseModel):
    """``lore status`` plus the server's generation; catalog counts vary by backend."""

    model_config = ConfigDict(extra="allow")

    root: str
    index_dir: str
    generation: int
    syncs: int
    syncing: bool
    last_sync: float | None = None


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """Every error, on every route, in OpenAI's error shape."""

    error: ErrorDetail


def _error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error_doc("The request is malformed or cannot be answered as asked."),
    401: _error_doc("A bearer token is required and was missing or wrong."),
    403: _error_doc("The Host or Origin header is not allowed (DNS rebinding guard)."),
    404: _error_doc("No such document, model or route."),
    409: _error_doc("The configured embedder does not match the index."),
    413: _error_doc("The request body or batch is too large."),
    422: _error_doc("The body or a parameter does not validate."),
    429: _error_doc("Too many requests from this client; retry after Retry-After seconds."),
    503: _error_doc("The embedder or the index is unavailable."),
}
