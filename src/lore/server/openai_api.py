"""OpenAI-compatible ``/v1/embeddings`` and ``/v1/models`` over the index's embedder.

Any OpenAI client (and lore's own ``openai`` provider) can embed through a
running server, with the model already loaded. The wire format follows
OpenAI's: ``input`` as a string or a list of strings, ``encoding_format``
``float`` or ``base64`` (little-endian float32, what the official client asks
for by default), ``dimensions`` (accepted when it equals the model's: lore's
models cannot be shortened), ``usage`` token counts from the model's own
tokenizer, and errors as ``{"error": {...}}``.

One extension: ``input_type`` (``document``, the default, or ``query``)
selects the space's prefix, as ``lore embed --kind`` does.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from lore.embed.runner import EmbeddingRunner, token_counter_for
from lore.server.errors import ApiError
from lore.server.routes import Service
from lore.server.schemas import ERROR_RESPONSES

MAX_INPUTS = 2048          # OpenAI's own per-request limit
MAX_INPUT_CHARS = 100_000

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["openai"])


class EmbeddingsRequest(BaseModel):
    """``POST /v1/embeddings`` (OpenAI's request body)."""

    model_config = ConfigDict(extra="ignore")   # OpenAI clients may send fields we do not use

    input: str | list[str] = Field(description="One text or a list of texts.")
    model: str = Field(min_length=1, max_length=200, description="An id from GET /v1/models.")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="Must equal the model's dimensions.")
    user: str | None = Field(None, max_length=200)
    input_type: Literal["document", "query"] = Field(
        "document", description="lore extension: which prefix of the space applies.")


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "lore"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def get_runner(service: Service) -> EmbeddingRunner:
    """The server's embedding runner (loaded once, shared with searches)."""
    with service.reader() as idx:
        return idx.embedding_runner()


@router.get("/models", response_model=ModelList)
def list_models(service: Service) -> dict[str, Any]:
    """The one model this server embeds with."""
    return {"object": "list", "data": [{"id": get_runner(service).space.model,
                                        "object": "model", "created": 0, "owned_by": "lore"}]}


@router.post("/embeddings", response_model=EmbeddingsResponse)
def create_embeddings(body: EmbeddingsRequest, service: Service) -> Response:
    """Embed ``input`` with the index's embedder, in OpenAI's reply format.

    The reply is serialised here, not validated against ``EmbeddingsResponse``
    (which still documents it): checking and re-encoding thousands of floats
    through pydantic cost more than embedding a short batch.
    """
    runner = get_runner(service)
    texts = [body.input] if isinstance(body.input, str) else body.input
    _check_request(body, texts, runner)
    vectors = runner.embed(texts, body.input_type)
    tokens = sum(token_counter_for(runner.embedder).count_tokens(texts))
    data = [{"object": "embedding", "index": i, "embedding": _encode(row, body.encoding_format)}
            for i, row in enumerate(vectors)]
    reply = {"object": "list", "data": data, "model": runner.space.model,
             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    return Response(json.dumps(reply, separators=(",", ":")), media_type="application/json")


def _check_request(body: EmbeddingsRequest, texts: list[str], runner: EmbeddingRunner) -> None:
    """Refuse what OpenAI refuses, with its error codes, before any work is done."""
    space = runner.space
    if body.model != space.model:
        raise ApiError(404, f"The model {body.model!r} does not exist on this server; "
                            f"GET /v1/models lists {space.model!r}.", param="model",
                       code="model_not_found")
    if not texts:
        raise ApiError(400, "'input' must not be an empty list.", param="input",
                       code="invalid_value")
    if len(texts) > MAX_INPUTS:
        raise ApiError(413, f"{len(texts)} inputs in one request; at most {MAX_INPUTS}. "
                            "Split the batch.", param="input", code="batch_too_large")
    for i, text in enumerate(texts):
        if not text.strip():
            raise ApiError(400, f"input[{i}] is empty; every input needs some text.",
                           param="input", code="invalid_value")
        if len(text) > MAX_INPUT_CHARS:
            raise ApiError(413, f"input[{i}] has {len(text)} characters; at most "
                                f"{MAX_INPUT_CHARS}.", param="input", code="input_too_large")
    if body.dimensions is not None and body.dimensions != space.dimensions:
        raise ApiError(400, f"The model {space.model!r} returns {space.dimensions} dimensions "
                            f"and cannot be shortened to {body.dimensions}; omit 'dimensions'.",
                       param="dimensions", code="invalid_value")


def _encode(row: np.ndarray, encoding_format: str) -> list[float] | str:
    """One vector as JSON floats or as base64 of little-endian float32."""
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(row, dtype="<f4").tobytes()).decode("ascii")
    floats: list[float] = row.tolist()     # the float32 values, exactly, as Python floats
    return floats
