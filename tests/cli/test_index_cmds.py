"""``lore init``, ``lore index``, ``lore status``: output shapes and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lore.cli import main
from lore.cli.index_cmds import index, init, lore_toml_template, status
from lore.config import load_settings
from lore.settings import Settings

REPORT_KEYS = {"root", "added", "updated", "removed", "renamed", "unchanged", "skipped",
               "warnings", "duplicate_ids", "new_chunks", "duration_s", "vectors", "notices"}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.md").write_text("---\nid: N-1\ntitle: Alpha\n---\n\n# Alpha\n\nFirst note.\n")
    (root / "b.md").write_text("# Beta\n\nSecond note, links to [[Alpha]].\n")
    (root / "bin.md").write_bytes(b"\0\1\2 binary")
    return root


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and stdout (stdout and stderr when it failed: errors go to stderr)."""
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_index_json_shape_and_rerun(notes: Path) -> None:
    code, out = run("index", str(notes), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert set(data) == REPORT_KEYS
    assert data["added"] == ["a.md", "b.md"]
    assert data["skipped"][0]["path"] == "bin.md" and "binary" in data["skipped"][0]["reason"]
    code, out = run("index", str(notes), "--json")
    assert json.loads(out)["unchanged"] == 2 and json.loads(out)["added"] == []


def test_index_summary_lists_skipped_files(notes: Path) -> None:
    code, out = run("index", str(notes))
    assert code == 0
    assert "2 added" in out and "1 skipped" in out
    assert "bin.md: binary" in out


def test_quiet_prints_nothing(notes: Path) -> None:
    assert run("index", str(notes), "--quiet") == (0, "")


def test_root_from_environment(notes: Path) -> None:
    code, out = run("index", "--json", env={"LORE_ROOT": str(notes)})
    assert code == 0 and json.loads(out)["root"] == str(notes)
    code, out = run("status", "--json", env={"LORE_ROOT": str(notes)})
    assert code == 0 and json.loads(out)["documents"] == 2


def test_status_json_after_index(notes: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    assert run("index", str(notes), "--index-dir", str(index_dir), "-q")[0] == 0
    code, out = run("status", "--root", str(notes), "--index-dir", str(index_dir), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert {"root", "index_dir", "documents", "chunks", "links", "doctypes", "spaces",
            "schema_version", "chunker_version", "last_sync", "bytes"} <= set(data)
    assert data["documents"] == 2 and data["index_dir"] == str(index_dir)
    code, out = run("status", "--root", str(notes), "--index-dir", str(index_dir))
    assert code == 0 and "documents" in out and "2" in out


def test_status_without_index_exits_1_with_the_fix(notes: Path) -> None:
    code, out = run("status", "--root", str(notes))
    assert code == 1
    assert "lore index" in out
    assert not (notes / ".lore").exists()


def test_missing_root_exits_1(tmp_path: Path) -> None:
    for args in (["index", str(tmp_path / "nope")], ["status", "--root", str(tmp_path / "x")]):
        code, out = run(*args)
        assert code == 1 and "does not exist" in out


def test_init_of_a_missing_folder_says_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "no such notes"
    code, out = run("init", str(missing))
    assert code == 1 and "does not exist" in out
    assert f"mkdir -p '{missing}'" in out and "lore index" not in out
    assert not missing.exists()


def test_bad_option_is_a_usage_error(notes: Path) -> None:
    assert run("index", str(notes), "--no-such-flag")[0] == 2


def test_init_writes_a_template_once(notes: Path) -> None:
    code, out = run("init", str(notes))
    assert code == 0 and "lore.toml" in out
    assert (notes / ".lore").is_dir() and (notes / "lore.toml").is_file()
    (notes / "lore.toml").write_text("# mine\n")
    code, out = run("init", str(notes))
    assert code == 0 and "Kept" in out
    assert (notes / "lore.toml").read_text() == "# mine\n"


def test_uncommented_template_is_valid_and_means_the_defaults(tmp_path: Path) -> None:
    template = lore_toml_template()
    lines = template.splitlines()
    settings_lines = [line for line in lines if line.startswith("# ") and
                      ("=" in line or line.startswith("# ["))]
    assert len(settings_lines) > 20 and "# [index]" in lines
    (tmp_path / "lore.toml").write_text("\n".join(line[2:] for line in settings_lines) + "\n")
    loaded = load_settings(tmp_path, env={})
    assert loaded.settings == Settings()
    assert any(origin.startswith("project") for origin in loaded.origins.values())


def test_every_command_documents_an_example() -> None:
    for command in (init, index, status):
        assert command.help and "Example" in command.help, command.name


def test_real_entry_point(notes: Path) -> None:
    lore = Path(sys.executable).with_name("lore")
    if not lore.exists():
        pytest.skip(f"no installed `lore` script beside {sys.executable}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORE_")}
    env["LORE_HOME"] = str(notes.parent / "home")

    def lore_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(lore), *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)

    missing = lore_run("status", "--root", str(notes), "--json")
    assert missing.returncode == 1 and "lore index" in missing.stderr
    done = lore_run("index", str(notes), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == ["a.md", "b.md"]
    shown = lore_run("status", "--root", str(notes), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["documents"] == 2
    assert lore_run("index", str(notes / "nowhere")).returncode == 1


def test_root_is_found_from_a_subfolder_and_accepted_both_ways(
        notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = notes / "deep" / "er"
    sub.mkdir(parents=True)
    assert run("index", "--root", str(notes), "-q") == (0, "")
    monkeypatch.chdir(sub)
    code, out = run("status", "--json")
    assert code == 0 and json.loads(out)["root"] == str(notes)
    code, out = run("search", "first", "--json")
    assert code == 0 and json.loads(out)["hits"][0]["path"] == "a.md"
    code, out = run("index", "--json")   # re-indexes the enclosing index, not a new one
    assert code == 0 and json.loads(out)["root"] == str(notes)
    assert not (sub / ".lore").exists()
    code, out = run("index", str(notes), "--root", str(sub))
    assert code == 2 and "disagree" in out


def test_without_any_index_above_the_message_says_so(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("status")
    assert code == 1 and "or any folder above it" in out and "lore index" in out


DUPLICATES = {"x/ADR-0004_one.md": "---\nid: ADR-0004\ntitle: One\n---\n\nFirst body.\n",
              "y/ADR-0004_two.md": "---\nid: ADR-0004\ntitle: Two\n---\n\nSecond body.\n",
              "z/bad.md": "---\nid: [unclosed\n---\n\nBroken front matter here.\n"}


def test_noop_index_summarises_duplicate_ids_and_status_lists_them(notes: Path) -> None:
    for rel, text in DUPLICATES.items():
        (notes / rel).parent.mkdir(parents=True, exist_ok=True)
        (notes / rel).write_text(text)
    first = run("index", str(notes))[1]
    assert "z/bad.md:" in first           # a file's own warning, when it is read
    code, again = run("index", str(notes))
    assert code == 0
    assert "ADR-0004" not in again and "duplicate id" not in again
    assert "1 id is used by more than one file" in again and "status --warnings" in again
    code, listed = run("status", "--root", str(notes), "--warnings")
    assert code == 0
    assert "duplicate id ADR-0004" in listed
    assert "x/ADR-0004_one.md" in listed and "y/ADR-0004_two.md" in listed
    assert "z/bad.md:" in listed          # kept from the sync that read it
    data = json.loads(run("status", "--root", str(notes), "--json")[1])
    assert data["duplicate_ids"] == {"ADR-0004": ["x/ADR-0004_one.md", "y/ADR-0004_two.md"]}
    (notes / "z/bad.md").write_text("# Fixed\n\nNow fine.\n")
    run("index", str(notes), "-q")
    assert "z/bad.md" not in run("status", "--root", str(notes), "--warnings")[1]


def test_status_and_index_count_the_same_vectors(notes: Path) -> None:
    (notes / "long.md").write_text("# Long\n\n" + "\n\n".join(
        f"## Part {i}\n\n" + "word " * 300 for i in range(4)))
    env = {"LORE_EMBED__ENABLED": "true"}
    code, out = run("index", str(notes), "--json", env=env)
    assert code == 0, out
    total = json.loads(out)["vectors"]["total"]
    status_data = json.loads(run("status", "--root", str(notes), "--json", env=env)[1])
    space = status_data["spaces"][status_data["active_space"]]
    assert space["vectors"] == total
    assert space["document_vectors"] >= 1
    assert space["chunk_vectors"] + space["document_vectors"] == total
    human = run("status", "--root", str(notes), env=env)[1]
    summary = run("index", str(notes), env=env)[1]
    phrase = f"{total:,} vectors ({space['chunk_vectors']:,} chunk, " \
             f"{space['document_vectors']:,} document)"
    assert phrase in human and phrase in summary


def test_first_index_prints_the_plan_and_progress_when_piped(notes: Path) -> None:
    result = CliRunner().invoke(main, ["index", str(notes)],
                                env={"LORE_EMBED__ENABLED": "true"})
    assert result.exit_code == 0, result.output
    assert "Embedding 2 chunks" in result.stderr
    assert "embedded 2/2 chunks (100%)" in result.stderr
    assert "Indexed" in result.stdout and "Embedding" not in result.stdout
    again = CliRunner().invoke(main, ["index", str(notes)], env={"LORE_EMBED__ENABLED": "true"})
    assert "Embedding" not in again.stderr     # nothing to embed, no plan


def test_switching_model_says_the_new_space_is_built_beside_and_how_long_it_takes(
        notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a model change: refused with the estimate, then built beside the old space."""
    from dataclasses import replace

    from lore.embed.hashing import MODEL_ID
    from lore.embed.models import CATALOGUE

    # The hashing embedder stands in for a catalogue model measured at 0.5 passages/s.
    spec = replace(CATALOGUE["all-MiniLM-L6-v2"], name=MODEL_ID, passages_per_s=0.5)
    monkeypatch.setitem(CATALOGUE, MODEL_ID, spec)
    on = {"LORE_EMBED__ENABLED": "true"}
    first = CliRunner().invoke(main, ["index", str(notes)], env=on)
    assert first.exit_code == 0, first.output
    old = json.loads(run("status", "--root", str(notes), "--json", env=on)[1])["active_space"]
    assert f"Embedding 2 chunks with {MODEL_ID};" in first.stderr     # no space to replace
    assert "up to about 4 s at 0.5 passages/s" in first.stderr         # 2 chunks / 0.5 per s
    (notes / "c.md").write_text("# Gamma\n\nThird note.\n")
    changed = on | {"LORE_EMBED__PRIMARY__DIMENSIONS": "64"}
    refused = CliRunner().invoke(main, ["index", str(notes)], env=changed)
    assert refused.exit_code != 0
    assert "--rebuild-vectors" in refused.output
    assert f"needs 3 chunks embedded with {MODEL_ID}: up to about 6 s" in refused.output
    rebuilt = CliRunner().invoke(main, ["index", str(notes), "--rebuild-vectors"], env=changed)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (f"Embedding 3 chunks with {MODEL_ID} into a new space beside the index's "
            f"hashing:{MODEL_ID}/384/fp32 [{old}], which keeps serving") in rebuilt.stderr
    assert "up to about 6 s at 0.5 passages/s" in rebuilt.stderr
    new = json.loads(run("status", "--root", str(notes), "--json", env=changed)[1])
    assert new["active_space"] != old


def test_keyword_search_works_while_vectors_build(notes: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-embedding (catalog committed, vectors not), another search finds the files."""
    from lore import vectorize

    seen: list[dict[str, object]] = []
    real = vectorize.update_vectors

    def spying(*args: object, **kwargs: object) -> object:
        result = CliRunner().invoke(main, ["search", "second note", "--root", str(notes),
                                           "--json"], env={"LORE_EMBED__ENABLED": "true"})
        assert result.exit_code == 0, result.output
        seen.append(json.loads(result.stdout))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("lore.index.update_vectors", spying)
    assert run("index", str(notes), "-q", env={"LORE_EMBED__ENABLED": "true"})[0] == 0
    assert seen and seen[0]["hits"][0]["path"] == "b.md"  # type: ignore[index]
    assert any("keyword" in n for n in seen[0]["notices"])  # type: ignore[union-attr]


def test_index_reports_chunks_the_embedder_truncated(tmp_path: Path) -> None:
    root = tmp_path / "long"
    root.mkdir()
    (root / "long.md").write_text("# Long\n\n" + " ".join(f"w{i}" for i in range(60)) + "\n")
    # The hashing provider keeps an estimate (no tokenizer): with an 8-word window the
    # one chunk is cut by the embedder, and the summary says so.
    env = {"LORE_EMBED__PRIMARY__MAX_TOKENS": "8"}
    code, out = run("index", str(root), "--json", env=env)
    assert code == 0, out
    assert json.loads(out)["vectors"]["truncated"] == 1
    (root / "long.md").write_text("# Long\n\n" + " ".join(f"v{i}" for i in range(60)) + "\n")
    code, out = run("index", str(root), env=env)
    assert code == 0, out
    assert "1 chunks were longer than the model's window and truncated" in out


@pytest.mark.slow
def test_fit_window_cuts_chunks_to_the_models_window(tmp_path: Path, minilm_home: Path) -> None:
    """Off (the default), the embedder truncates a long chunk; on, the chunker cuts it to fit."""
    root = tmp_path / "long"
    root.mkdir()
    # One heading-less paragraph of 300 words: cut by the estimate into chunks that
    # MiniLM's tokenizer counts past its 256-token window (each word is several pieces).
    words = " ".join(f"okapi{i % 7} forest canopy{i % 5} river" for i in range(75))
    (root / "long.md").write_text(f"# Long\n\n{words}\n")
    env = {"LORE_HOME": str(minilm_home), "LORE_EMBED__PRIMARY__PROVIDER": "onnx",
           "LORE_EMBED__CACHE": "false"}    # every chunk embedded, so truncation is counted
    code, out = run("index", str(root), "--json", env=env)
    assert code == 0, out
    default = json.loads(out)["vectors"]
    assert default["truncated"] >= 1
    code, out = run("index", str(root), "--json", env=env | {"LORE_CHUNKING__FIT_WINDOW": "true"})
    assert code == 0, out
    fitted = json.loads(out)
    assert fitted["updated"] == ["long.md"]          # turning it on re-chunks the file
    assert fitted["vectors"]["truncated"] == 0
    assert fitted["vectors"]["embedded"] > default["embedded"]
