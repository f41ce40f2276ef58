"""The console script's fast path: `lore search/show/related/status` through a running server.

Each case runs the fast path in a fresh interpreter (as pip's `lore` wrapper
does) and compares stdout, stderr and the exit status byte for byte with the
in-process command (`--no-server`), then checks what that interpreter imported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import tomllib
from _backlog import write_backlog
from _served import SRC, running_server
from click.testing import CliRunner, Result

from lore.cli import main
from lore.cli.doc_cmds import related, show
from lore.cli.index_cmds import status
from lore.cli.search_cmds import search
from lore.entry import (
    COMMANDS,
    COMMON_FLAGS,
    COMMON_VALUED,
    EDGE_KINDS,
    IN_PROCESS,
    IN_PROCESS_FOR,
    parse_args,
    through_server,
)

pytest.importorskip("uvicorn")

SEARCHES = [["vector", "cache"], ["vector", "cache", "--json"], ["type:ADR", "loopback"],
            ["T-3", "--json"], ["sqlite", "wal", "--", "-checklist", "-n4"],
            ['"release checklist"', "--explain"], ["faiss", "-ftype=Task", "--filter", "state=Done"],
            ["work", "--chunks", "--limit=3", "--json"], ["serving", "--expand"],
            ["vector", "cache", "--budget", "200"], ["vector", "--context", "--json"],
            ["zzzqqq", "--fail-empty"], ["zzzqqq", "--fail-empty", "--json"],
            ["filter", "--filter", "nokey=x"]]
# T-99 is the id of two files (ambiguous), NOPE-1 of none.
DOCUMENTS = [["show", "T-3"], ["show", "t-3", "--json"], ["show", "decisions/ADR-0001.md"],
             ["show", "T-99"], ["show", "--json", "T-99"], ["show", "NOPE-1"],
             ["show", "NOPE-1", "--json"], ["related", "F-1"], ["related", "F-1", "--json"],
             ["related", "T-3", "-d2", "--kind", "parent", "--kind=decision"],
             ["related", "ADR-0001", "--depth=2", "--json"], ["related", "long.md"],
             ["related", "T-99"], ["related", "NOPE-1", "--json"],
             ["status", "--warnings"]]
CASES = [["search", *args] for args in SEARCHES] + DOCUMENTS
# Imported by the full CLI or the engine; the fast path must not need any of them.
HEAVY = ("click", "rich", "numpy", "pydantic", "sqlite3", "lore.settings", "lore.cli",
         "lore.index", "lore.config")
PROBE = """
import json, sys
from lore.entry import through_server
code = through_server(sys.argv[1:])
heavy = [m for m in sys.modules if m in HEAVY or m.split(".")[0] in HEAVY]
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": heavy}))
""".replace("HEAVY", repr(HEAVY))
# `lore status` says how long ago the last sync was: the one thing two runs may not agree on.
AGE = re.compile(r'(last sync +\d+ s ago|"last_sync_age_s": [\d.]+)')


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """A server started in the test's own environment (user dirs, hashing embedder)."""
    root = write_backlog(tmp_path / "notes")
    for name in ("a", "b"):
        (root / "tasks" / f"dup-{name}.md").write_text(
            f"---\nid: T-99\ntype: Task\ntitle: Copy {name}\n---\nA copied task.\n",
            encoding="utf-8")
    with running_server(root) as served_root:
        yield served_root


def fast(root: Path, args: list[str]) -> tuple[str, str, dict[str, object]]:
    """stdout, stderr and the probe's report of ``lore ARGS --root ROOT``, fast path."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args, "--root", str(root)],
                          env=env, capture_output=True, text=True, check=True, timeout=60)
    stderr, _, report = done.stderr.rpartition("\n")
    return done.stdout, stderr, json.loads(report)


def in_process(root: Path, args: list[str], *more: str) -> Result:
    return CliRunner().invoke(main, [*args, "--root", str(root), *more])


def test_the_fast_path_prints_what_the_command_prints_and_imports_nothing_heavy(
        served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    for args in CASES:
        stdout, stderr, report = fast(served, args)
        local = in_process(served, args, "--no-server")
        if local.exit_code == 1 and "Error:" in local.stderr and args[0] == "search":
            assert report["code"] is None, (args, local.stderr)   # the full CLI says it
            continue
        assert report == {"code": local.exit_code, "heavy": []}, args
        assert stdout == local.stdout, args
        assert stderr == local.stderr, args
    assert "«" in fast(served, ["search", "vector", "cache"])[0]   # text output was a case
    errors = [fast(served, args)[1] for args in (["show", "T-99"], ["related", "NOPE-1"])]
    assert "is ambiguous: 2 documents" in errors[0] and "No indexed document" in errors[1]


def test_status_prints_what_the_command_prints_through_the_same_server(
        served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    for args in (["status"], ["status", "--json"], ["status", "--warnings", "--json"]):
        stdout, stderr, report = fast(served, args)
        local = in_process(served, args)   # the full CLI, asking the server
        assert report == {"code": 0, "heavy": []}
        assert AGE.sub("", stdout) == AGE.sub("", local.stdout), args
        assert stderr == local.stderr == ""
        assert "generation" in stdout


def test_it_steps_aside_when_the_full_cli_must_answer(
        served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert through_server(["search", "vector", "--root", str(tmp_path)]) is None
    assert through_server(["index", "--root", str(served)]) is None
    assert through_server(["show", "T-3", "--no-server", "--root", str(served)]) is None
    monkeypatch.chdir(served)   # a path relative to here: the server may read it elsewhere
    assert through_server(["show", "tasks/T-3.md", "--json"]) is None
    monkeypatch.setenv("LORE_NO_SERVER", "1")
    assert through_server(["status", "--root", str(served), "--json"]) is None
    # ... and the console script then runs the full CLI.
    done = subprocess.run([sys.executable, "-c", "from lore.entry import main; main()", "search",
                           "T-3", "--root", str(served), "--json"],
                          env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, check=False,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hits"][0]["doc_id"] == "T-3"


@pytest.mark.parametrize("args", [
    ["search", "vector", "--force"], ["search", "vector", "--index-dir", "x"],
    ["search", "vector", "--store", "postgresql://db/lore"], ["search", "--help"],
    ["search", "vector", "-h"], ["search", "vector", "--limit", "0"], ["search", "vector", "-n"],
    ["search", "vector", "--mode", "fuzzy"], ["search", "vector", "--filter", "state"],
    ["search", "--json"], ["search", "--", "  "], ["search", "vector", "--json=yes"],
    ["search", "vector", "-n=3"], ["show"], ["show", "T-1", "T-2"], ["show", "-T-1"],
    ["show", "T-1", "--force"], ["show", "--", "T-1"], ["show", "~/T-1.md"],
    ["related", "T-1", "--depth", "0"], ["related", "T-1", "-dx"],
    ["related", "T-1", "--kind", "cousin"], ["related", "T-1", "--kind"],
    ["status", "T-1"], ["status", "--warnings=yes"], ["status", "-h"]])
def test_arguments_only_the_full_cli_handles_are_left_to_it(args: list[str]) -> None:
    assert parse_args(args[0], args[1:]) is None


def test_flags_are_read_as_the_command_reads_them() -> None:
    options = parse_args("search", ["-draft", "release", "-n4", "--", "-ftype=ADR", "checklist",
                                    "--filter", "state = Done", "--mode=keyword", "--budget", "9"])
    assert options is not None
    assert options["query"] == "-draft release checklist"
    assert options["limit"] == 4 and options["mode"] == "keyword" and options["budget"] == 9
    assert options["filters"] == {"type": ["ADR"], "state": ["Done"]}
    assert options["context"] is True and options["json"] is False
    assert parse_args("related", ["--kind", "child", "T-1", "-d3", "--kind=wiki"]) == {
        "json": False, "root": None, "depth": 3, "kinds": ["child", "wiki"], "id_or_path": "T-1"}
    assert parse_args("related", ["T-2"]) == {   # the defaults are the command's, each time
        "json": False, "root": None, "depth": 1, "kinds": [], "id_or_path": "T-2"}
    assert parse_args("status", ["--json", "--root", "/r"]) == {
        "json": True, "warnings": False, "root": "/r"}


@pytest.mark.parametrize("command", [search, show, related, status])
def test_the_parser_knows_every_option_of_each_command(command: click.Command) -> None:
    context = click.Context(command, help_option_names=["-h", "--help"])   # as `lore` sets them
    params = command.get_params(context)
    names = {name for param in params if isinstance(param, click.Option)
             for name in (*param.opts, *param.secondary_opts)}
    spec = COMMANDS[str(command.name)]
    assert names == (set(COMMON_FLAGS) | set(COMMON_VALUED) | set(spec.flags) | set(spec.valued)
                     | IN_PROCESS | IN_PROCESS_FOR.get(str(command.name), frozenset()))
    arguments = [param.name for param in params if isinstance(param, click.Argument)]
    assert arguments == (["query"] if spec.words else [spec.argument] if spec.argument else [])
    kinds = [p for p in params if p.name == "kinds"]
    assert all(tuple(getattr(p.type, "choices", ())) == EDGE_KINDS for p in kinds)


def test_the_console_script_is_the_fast_entry() -> None:
    pyproject = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["lore"] == "lore.entry:main"
