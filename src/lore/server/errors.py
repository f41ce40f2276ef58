"""Every error a route can meet becomes a JSON body in one shape, never a bare 500.

The shape is OpenAI's (``{"error": {"message", "type", "param", "code"}}``)
on every route, so the official client reads ``/v1`` errors and every other
caller reads one shape too. ``LoreError`` subclasses map to status codes
here, in one table; validation errors are 400 under ``/v1`` (what OpenAI
answers) and 422 elsewhere.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lore.errors import (
    ConfigError,
    DocumentError,
    EmbedderMismatchError,
    IndexCorruptError,
    IndexNotFoundError,
    LoreError,
    MissingDependencyError,
    ModelNotFoundError,
    ProviderError,
    QueryError,
    UnknownEmbedderError,
)

log = logging.getLogger(__name__)

# (status, OpenAI-style type) per lore error; the first matching class wins.
_STATUS: tuple[tuple[type[LoreError], int, str], ...] = (
    (QueryError, 400, "invalid_request_error"),
    (DocumentError, 400, "invalid_request_error"),
    (EmbedderMismatchError, 409, "embedder_mismatch"),
    (IndexNotFoundError, 503, "index_unavailable"),
    (IndexCorruptError, 503, "index_unavailable"),
    (ModelNotFoundError, 503, "embedder_unavailable"),
    (MissingDependencyError, 503, "embedder_unavailable"),
    (UnknownEmbedderError, 503, "embedder_unavailable"),
    (ProviderError, 503, "embedder_unavailable"),
    (ConfigError, 503, "configuration_error"),
)


class ApiError(Exception):
    """A route's deliberate refusal: status, message, and OpenAI's type/param/code."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code


def error_body(message: str, type_: str, *, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """The JSON error body shared by every route and the security guard."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status: int, message: str, type_: str, *, param: str | None = None,
                   code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSONResponse carrying ``error_body``."""
    return JSONResponse(error_body(message, type_, param=param, code=code), status_code=status,
                        headers=headers)


def lore_error_status(exc: LoreError) -> tuple[int, str]:
    """The HTTP status and error type of a ``LoreError``."""
    for cls, status, type_ in _STATUS:
        if isinstance(exc, cls):
            return status, type_
    return 400, "invalid_request_error"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every exception into ``error_body`` JSON."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, exc.type, param=exc.param, code=exc.code)

    async def on_lore_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LoreError)
        status, type_ = lore_error_status(exc)
        return error_response(status, str(exc), type_)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where or 'request'}: {first.get('msg', 'invalid value')}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problems)"
        status = 400 if request.url.path.startswith("/v1/") else 422
        return error_response(status, message, "invalid_request_error", param=where or None,
                              code="invalid_value")

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), "invalid_request_error",
                              headers=dict(exc.headers or {}))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the server log has the details",
                              "server_error")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(LoreError, on_lore_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
