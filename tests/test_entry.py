"""The console script's fast path: `lore search` through a running server, in a small process.

Each case runs the fast path in a fresh interpreter (as pip's `lore` wrapper
does) and compares stdout, stderr and the exit status byte for byte with the
in-process command (`--no-server`), then checks what that interpreter imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import tomllib
from _backlog import write_backlog
from _served import SRC, running_server
from click.testing import CliRunner

from lore.cli import main
from lore.cli.search_cmds import search
from lore.entry import FLAGS, IN_PROCESS, VALUED, parse_search_args, search_through_server

pytest.importorskip("uvicorn")

CASES = [["vector", "cache"], ["vector", "cache", "--json"], ["type:ADR", "loopback"],
         ["T-3", "--json"], ["sqlite", "wal", "--", "-checklist", "-n4"],
         ['"release checklist"', "--explain"], ["faiss", "-ftype=Task", "--filter", "state=Done"],
         ["work", "--chunks", "--limit=3", "--json"], ["serving", "--expand"],
         ["vector", "cache", "--budget", "200"], ["vector", "--context", "--json"],
         ["zzzqqq", "--fail-empty"], ["zzzqqq", "--fail-empty", "--json"],
         ["filter", "--filter", "nokey=x"]]
# Imported by the full CLI or the engine; the fast path must not need any of them.
HEAVY = ("click", "rich", "numpy", "pydantic", "sqlite3", "lore.settings", "lore.cli",
         "lore.index", "lore.config")
PROBE = """
import json, sys
from lore.entry import search_through_server
code = search_through_server(sys.argv[1:])
heavy = [m for m in sys.modules if m in HEAVY or m.split(".")[0] in HEAVY]
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": heavy}))
""".replace("HEAVY", repr(HEAVY))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """A server started in the test's own environment (user dirs, hashing embedder)."""
    with running_server(write_backlog(tmp_path / "notes")) as root:
        yield root


def fast(root: Path, args: list[str]) -> tuple[str, str, dict[str, object]]:
    """stdout, stderr and the probe's report of ``lore search ARGS --root ROOT``, fast path."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", PROBE, "search", *args, "--root", str(root)],
                          env=env, capture_output=True, text=True, check=True, timeout=60)
    stderr, _, report = done.stderr.rpartition("\n")
    return done.stdout, stderr, json.loads(report)


def test_the_fast_path_prints_what_the_command_prints_and_imports_nothing_heavy(
        served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    for args in CASES:
        stdout, stderr, report = fast(served, args)
        local = CliRunner().invoke(main, ["search", *args, "--root", str(served), "--no-server"])
        if local.exit_code == 1 and "Error:" in local.stderr:
            assert report["code"] is None, (args, local.stderr)   # the full CLI says it
            continue
        assert report == {"code": local.exit_code, "heavy": []}, args
        assert stdout == local.stdout, args
        assert stderr == local.stderr, args
    assert "«" in fast(served, ["vector", "cache"])[0]    # text output was among the cases


def test_it_steps_aside_when_the_full_cli_must_answer(
        served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert search_through_server(["search", "vector", "--root", str(tmp_path)]) is None
    assert search_through_server(["show", "T-3", "--root", str(served)]) is None
    assert search_through_server(["search", "vector", "--no-server", "--root", str(served)]) \
        is None
    monkeypatch.setenv("LORE_NO_SERVER", "1")
    assert search_through_server(["search", "vector", "--root", str(served), "--json"]) is None
    # ... and the console script then runs the full CLI.
    done = subprocess.run([sys.executable, "-c", "from lore.entry import main; main()", "search",
                           "T-3", "--root", str(served), "--json"],
                          env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, check=False,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hits"][0]["doc_id"] == "T-3"


@pytest.mark.parametrize("args", [["vector", "--force"], ["vector", "--index-dir", "x"],
                                  ["vector", "--store", "postgresql://db/lore"],
                                  ["--help"], ["vector", "-h"], ["vector", "--limit", "0"],
                                  ["vector", "-n"], ["vector", "--mode", "fuzzy"],
                                  ["vector", "--filter", "state"], ["--json"], ["--", "  "],
                                  ["vector", "--json=yes"], ["vector", "-n=3"]])
def test_flags_only_the_full_cli_handles_are_left_to_it(args: list[str]) -> None:
    assert parse_search_args(args) is None


def test_flags_are_read_as_the_command_reads_them() -> None:
    options = parse_search_args(["-draft", "release", "-n4", "--", "-ftype=ADR", "checklist",
                                 "--filter", "state = Done", "--mode=keyword", "--budget", "9"])
    assert options is not None
    assert options["query"] == "-draft release checklist"
    assert options["limit"] == 4 and options["mode"] == "keyword" and options["budget"] == 9
    assert options["filters"] == {"type": ["ADR"], "state": ["Done"]}
    assert options["context"] is True and options["json"] is False


def test_the_parser_knows_every_option_of_the_search_command() -> None:
    context = click.Context(search, help_option_names=["-h", "--help"])   # as `lore` sets them
    names = {name for param in search.get_params(context) if isinstance(param, click.Option)
             for name in (*param.opts, *param.secondary_opts)}
    assert names == set(FLAGS) | set(VALUED) | IN_PROCESS


def test_the_console_script_is_the_fast_entry() -> None:
    pyproject = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["lore"] == "lore.entry:main"
