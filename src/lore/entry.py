"""The ``lore`` console script: read-only commands answered by a running server, in a small process.

pip's generated ``lore`` wrapper imports this module. For ``lore search``,
``show``, ``related`` and ``status`` whose output goes to a pipe or is
``--json`` (what scripts and agents run), while a ``lore serve`` serves the
folder, it reads the server's address from ``.lore/server.json`` (found by
walking up from the current folder, as the CLI finds its index), sends the
parsed arguments to ``POST /cli/{command}`` and prints what comes back, with
its exit status: the server renders it with the command's own code, so the
output is the in-process output. Only the standard library is imported on
this path; click, the settings, numpy and the engine are not, which is what
makes it fast.

Anything else goes to the full CLI (``lore.cli``), which also uses a running
server where it can: other commands, a terminal (colours are the terminal's
business), ``--no-server``, ``--index-dir``, ``--store``, ``--force``, ``--help``, a flag
value or argument the CLI would reject, a path relative to the current folder,
settings that move the index folder, or a server that does not answer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from lore._terminal import output_width
from lore.paths import DEFAULT_INDEX_DIR, enclosing_root
from lore.remote import RemoteError, RemoteUnavailable, ServerConnection, live_server

MODES = ("keyword", "hybrid", "vector")
# `lore related --kind`'s choices (a test checks them against the command).
EDGE_KINDS = ("parent", "child", "blocks", "blocked_by", "relates", "decision", "decides",
              "mention", "mentioned_by", "wiki", "markdown", "backlink")


class Command(NamedTuple):
    """One command the fast path answers: its options (tests check them against click's).

    Attributes:
        flags: option -> request key, for on/off flags.
        valued: option -> request key, for options that take a value.
        words: positional words are the query (``lore search``); else ``argument``.
        argument: the request key of the one positional argument, or None for none.
    """

    flags: dict[str, str]
    valued: dict[str, str]
    words: bool = False
    argument: str | None = None


# Options every command has: left to the full CLI, or read here.
IN_PROCESS = frozenset({"--index-dir", "--store", "--no-server", "-h", "--help"})
COMMON_FLAGS = {"--json": "json"}
COMMON_VALUED = {"--root": "root"}
COMMANDS = {
    "search": Command({"--chunks": "chunks", "--explain": "explain", "--expand": "expand",
                       "--context": "context", "--fail-empty": "fail_empty"},
                      {"--limit": "limit", "-n": "limit", "--filter": "filters", "-f": "filters",
                       "--mode": "mode", "--budget": "budget"}, words=True),
    "show": Command({}, {}, argument="id_or_path"),
    "related": Command({}, {"--depth": "depth", "-d": "depth", "--kind": "kinds"},
                       argument="id_or_path"),
    "status": Command({"--warnings": "warnings"}, {}),
}
# Options only some commands leave to the full CLI.
IN_PROCESS_FOR = {"search": frozenset({"--force"})}
# Environment that changes where the index is, or how output looks: left to the full CLI.
IN_PROCESS_ENV = ("LORE_NO_SERVER", "LORE_INDEX_DIR", "LORE_INDEX__DIR", "LORE_STORE",
                  "LORE_INDEX__STORE", "FORCE_COLOR")


def main() -> None:
    """Run ``lore``: through a server's fast path when it applies, else the full CLI."""
    code = through_server(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from lore.cli import main as cli

    cli()


def through_server(argv: list[str]) -> int | None:
    """Answer ``lore search/show/related/status ...`` through a running server.

    Returns the exit status, or None when the fast path does not apply or the
    server did not answer; nothing has been printed then, and the full CLI
    takes over.
    """
    if not argv or argv[0] not in COMMANDS or any(os.environ.get(k) for k in IN_PROCESS_ENV):
        return None
    options = parse_args(argv[0], argv[1:])
    if options is None or (not options["json"] and sys.stdout.isatty()):
        return None
    given = options.pop("root") or os.environ.get("LORE_ROOT")
    root = Path(given).expanduser().absolute() if given else \
        enclosing_root(Path.cwd(), Path(DEFAULT_INDEX_DIR))
    info = live_server(root, root / DEFAULT_INDEX_DIR)
    if info is None:
        return None
    if argv[0] == "status":
        options["server"] = info.url
    server = ServerConnection(info)
    try:
        reply = server.call("POST", f"/cli/{argv[0]}", {**options, "width": output_width()})
    except (RemoteUnavailable, RemoteError):
        return None
    finally:
        server.close()
    sys.stderr.write(reply["stderr"])
    sys.stdout.write(reply["stdout"])
    code: int = reply["code"]
    return code


def parse_args(name: str, args: list[str]) -> dict[str, Any] | None:
    """A command's arguments and flags as ``POST /cli/NAME`` takes them, or None.

    Follows click's rules for the command: options anywhere; for ``search``
    (``QueryCommand``) ``--`` is dropped and a ``-word`` that is no option is a
    query word. None whenever the full CLI should decide: an option only it
    handles, a value or an argument it would reject, or a path relative to the
    current folder (the server runs elsewhere).
    """
    command = COMMANDS[name]
    flags, valued = COMMON_FLAGS | command.flags, COMMON_VALUED | command.valued
    refused = IN_PROCESS | IN_PROCESS_FOR.get(name, frozenset())
    options: dict[str, Any] = {key: False for key in flags.values()}
    defaults: dict[str, Any] = {"filters": {}, "kinds": [], "depth": 1}   # the commands'
    options |= {key: defaults.get(key) for key in valued.values()}
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        key, eq, attached = arg.partition("=")
        if arg == "--" and command.words:
            continue
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
        elif key in flags and not eq:
            options[flags[key]] = True
        elif key in valued and (eq and key.startswith("--") or not eq):
            value = attached if eq else next(rest, None)
            if value is None or not _set(options, valued[key], value):
                return None
        elif arg[:2] in valued and (arg[2:].isdigit() or "=" in arg or not command.words):
            if not _set(options, valued[arg[:2]], arg[2:]):   # -n4, -ftype=ADR, -d2
                return None
        elif key in refused or key in flags or key in valued or not command.words:
            return None
        else:
            words.append(arg)
    if command.words:
        options["query"] = " ".join(words).strip()
        if not options["query"]:
            return None
        options["context"] = options["context"] or options["budget"] is not None
    elif command.argument is not None:
        if len(words) != 1 or _names_a_local_file(words[0]):
            return None
        options[command.argument] = words[0]
    elif words:
        return None
    return options


def _names_a_local_file(key: str) -> bool:
    """Whether ``key`` is a path the server could read differently (``~``, or cwd-relative)."""
    return key.startswith("~") or (not Path(key).is_absolute() and Path(key).is_file())


def _set(options: dict[str, Any], key: str, value: str) -> bool:
    """Store one option's value as the click command would; False when it would refuse it."""
    if key in ("limit", "budget", "depth"):
        if not value.isdigit() or int(value) < 1:
            return False
        options[key] = int(value)
    elif key == "mode":
        if value not in MODES:
            return False
        options[key] = value
    elif key == "kinds":
        if value not in EDGE_KINDS:
            return False
        options[key].append(value)
    elif key == "filters":
        field, sep, wanted = value.partition("=")
        if not sep or not field.strip() or not wanted.strip():
            return False
        options[key].setdefault(field.strip(), []).append(wanted.strip())
    else:
        options[key] = value
    return True
