"""A SageMaker endpoint serving a text-embeddings-inference (TEI) container.

The wire format is TEI's: ``{"inputs": [...]}`` in, a bare list of vectors
out. boto3 is an optional extra (``pip install 'lore[sagemaker]'``). Missing
or expired AWS credentials are an ordinary ``ProviderError`` (the search
layer then degrades to keyword-only), never a traceback.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from lore._optional import require
from lore.embed._http import (
    PayloadTooLarge,
    RemoteEmbedder,
    mentions_too_long,
    remote_space,
    to_matrix,
)
from lore.embed.base import EmbeddingSpace, Vectors
from lore.errors import ConfigError, ProviderError
from lore.settings import ProviderSettings

_PURPOSE = "the sagemaker embedding provider"


class SageMakerEmbedder(RemoteEmbedder):
    """Embeddings from ``invoke_endpoint`` on a SageMaker runtime client.

    Args:
        space: the configured space (see ``remote_space``).
        endpoint_name: the SageMaker endpoint.
        client: a boto3 ``sagemaker-runtime`` client.
        errors: the ``botocore.exceptions`` module (its classes are caught).
    """

    def __init__(self, space: EmbeddingSpace, *, endpoint_name: str, client: Any,
                 errors: ModuleType) -> None:
        super().__init__(space, f"sagemaker endpoint {endpoint_name!r}")
        self.endpoint_name = endpoint_name
        self._client = client
        self._errors = errors

    @classmethod
    def from_settings(cls, p: ProviderSettings) -> SageMakerEmbedder:
        """Build a client for ``p.endpoint_name`` in ``p.region``.

        Raises:
            MissingDependencyError: boto3 is not installed.
            ConfigError: no endpoint name, no dimensions, or no usable region.
        """
        space = remote_space(p)
        if not p.endpoint_name:
            raise ConfigError("provider 'sagemaker' needs endpoint_name = \"...\" (the "
                              "SageMaker endpoint serving the model) in its settings")
        boto3 = require("boto3", extra="sagemaker", purpose=_PURPOSE)
        errors = require("botocore.exceptions", extra="sagemaker", package="botocore",
                         purpose=_PURPOSE)
        config = require("botocore.config", extra="sagemaker", package="botocore",
                         purpose=_PURPOSE)
        timeouts = config.Config(connect_timeout=p.timeout_s, read_timeout=p.timeout_s,
                                 retries={"max_attempts": 3, "mode": "standard"})
        try:
            client = boto3.client("sagemaker-runtime", region_name=p.region, config=timeouts)
        except errors.BotoCoreError as exc:
            raise ConfigError(f"cannot create a SageMaker client ({exc}); set region = "
                              f"\"...\" in the provider settings or AWS_DEFAULT_REGION") from exc
        return cls(space, endpoint_name=p.endpoint_name, client=client, errors=errors)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        errors = self._errors
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self.endpoint_name, ContentType="application/json",
                Accept="application/json", Body=json.dumps({"inputs": texts}))
            payload = response["Body"].read()
        except errors.NoCredentialsError as exc:
            raise ProviderError(
                f"no credentials for {self.source}: configure AWS credentials (aws "
                f"configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            ) from exc
        except errors.ClientError as exc:
            raise self._client_error(exc) from exc
        except errors.BotoCoreError as exc:
            raise ProviderError(f"{self.source} failed ({type(exc).__name__}: {exc}); "
                                f"check the region and the network") from exc
        try:
            rows = json.loads(payload)
        except ValueError as exc:
            raise ProviderError(f"{self.source} returned invalid JSON; is it a TEI "
                                f"(text-embeddings-inference) container?") from exc
        return to_matrix(rows, len(texts), self.dimensions, self.source)

    def _client_error(self, exc: Any) -> ProviderError:
        """Turn a botocore ClientError into PayloadTooLarge or a ProviderError."""
        reply = getattr(exc, "response", None) or {}
        error = reply.get("Error", {})
        code = error.get("Code", "error")
        message = str(error.get("Message", ""))[:200]
        if reply.get("OriginalStatusCode") == 413 or mentions_too_long(message):
            return PayloadTooLarge(f"{self.source} refused the batch as too large ({message})")
        return ProviderError(f"{self.source} failed ({code}: {message}); check endpoint_name, "
                             f"region and the IAM permission sagemaker:InvokeEndpoint")
