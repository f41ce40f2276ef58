"""The ``lore`` console script: ``lore search`` answered by a running server, in a small process.

pip's generated ``lore`` wrapper imports this module. For a ``lore search``
whose output goes to a pipe or is ``--json`` (what scripts and agents run),
while a ``lore serve`` serves the folder, it reads the server's address from
``.lore/server.json`` (found by walking up from the current folder, as the
CLI finds its index), sends the flags to ``POST /cli/search`` and prints what
comes back: the server renders it with the CLI's own code, so the output is
the in-process output. Only the standard library is imported on this path;
click, the settings, numpy and the engine are not, which is what makes it
fast.

Anything else goes to the full CLI (``lore.cli``), which also uses a running
server where it can: other commands, a terminal (colours are the terminal's
business), ``--no-server``, ``--index-dir``, ``--store``, ``--force``, ``--help``, a flag
value the CLI would reject, settings that move the index folder, or a server
that does not answer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from lore._terminal import output_width
from lore.paths import DEFAULT_INDEX_DIR, enclosing_root
from lore.remote import RemoteError, RemoteUnavailable, ServerConnection, live_server

MODES = ("keyword", "hybrid", "vector")

# `lore search`'s options (tests check this against the click command).
FLAGS = {"--json": "json", "--chunks": "chunks", "--explain": "explain",
         "--expand": "expand", "--context": "context", "--fail-empty": "fail_empty"}
VALUED = {"--limit": "limit", "-n": "limit", "--filter": "filters", "-f": "filters",
          "--mode": "mode", "--budget": "budget", "--root": "root"}
IN_PROCESS = frozenset({"--index-dir", "--store", "--force", "--no-server", "-h", "--help"})
# Environment that changes where the index is, or how output looks: left to the full CLI.
IN_PROCESS_ENV = ("LORE_NO_SERVER", "LORE_INDEX_DIR", "LORE_INDEX__DIR", "LORE_STORE",
                  "LORE_INDEX__STORE", "FORCE_COLOR")


def main() -> None:
    """Run ``lore``: through a server's fast path when it applies, else the full CLI."""
    code = search_through_server(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from lore.cli import main as cli

    cli()


def search_through_server(argv: list[str]) -> int | None:
    """Answer ``lore search ...`` through a running server; the exit status, or None.

    None means the fast path does not apply or the server did not answer;
    nothing has been printed then, and the full CLI takes over.
    """
    if not argv or argv[0] != "search" or any(os.environ.get(k) for k in IN_PROCESS_ENV):
        return None
    options = parse_search_args(argv[1:])
    if options is None or (not options["json"] and sys.stdout.isatty()):
        return None
    given = options.pop("root") or os.environ.get("LORE_ROOT")
    root = Path(given).expanduser().absolute() if given else \
        enclosing_root(Path.cwd(), Path(DEFAULT_INDEX_DIR))
    info = live_server(root, root / DEFAULT_INDEX_DIR)
    if info is None:
        return None
    fail_empty = options.pop("fail_empty")
    server = ServerConnection(info)
    try:
        reply = server.call("POST", "/cli/search", {**options, "width": output_width()})
    except (RemoteUnavailable, RemoteError):
        return None
    finally:
        server.close()
    sys.stderr.write(reply["stderr"])
    sys.stdout.write(reply["stdout"])
    return 1 if fail_empty and not reply["found"] else 0


def parse_search_args(args: list[str]) -> dict[str, Any] | None:
    """``lore search``'s words and flags as ``POST /cli/search`` takes them, or None.

    Follows the command's own rules (``QueryCommand``): options anywhere, ``--``
    dropped, a ``-word`` that is no option is a query word. None whenever the
    full CLI should decide: an option only it handles, or a value it would reject.
    """
    options: dict[str, Any] = {name: False for name in FLAGS.values()}
    options |= {"limit": None, "filters": {}, "mode": None, "budget": None, "root": None}
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        name, eq, attached = arg.partition("=")
        if arg == "--":
            continue
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
        elif name in FLAGS and not eq:
            options[FLAGS[name]] = True
        elif name in VALUED and (eq and name.startswith("--") or not eq):
            value = attached if eq else next(rest, None)
            if value is None or not _set(options, VALUED[name], value):
                return None
        elif arg[:2] in ("-n", "-f") and (arg[2:].isdigit() or "=" in arg):
            if not _set(options, VALUED[arg[:2]], arg[2:]):   # -n4, -ftype=ADR
                return None
        elif name in IN_PROCESS or name in FLAGS or name in VALUED:
            return None
        else:
            words.append(arg)
    options["query"] = " ".join(words).strip()
    if not options["query"]:
        return None
    options["context"] = options["context"] or options["budget"] is not None
    return options


def _set(options: dict[str, Any], key: str, value: str) -> bool:
    """Store one option's value as the click command would; False when it would refuse it."""
    if key in ("limit", "budget"):
        if not value.isdigit() or int(value) < 1:
            return False
        options[key] = int(value)
    elif key == "mode":
        if value not in MODES:
            return False
        options[key] = value
    elif key == "filters":
        field, sep, wanted = value.partition("=")
        if not sep or not field.strip() or not wanted.strip():
            return False
        options[key].setdefault(field.strip(), []).append(wanted.strip())
    else:
        options[key] = value
    return True
