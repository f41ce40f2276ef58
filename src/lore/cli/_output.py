"""Everything ``lore`` prints goes through here: control sequences out, lines fit the width.

Titles, snippets, paths and context packs come from the indexed files, and a
file can hold terminal escape sequences: an OSC 52 sequence in a title would
write to the reader's clipboard, a CSI sequence could hide or rewrite lines.
So every human-readable string is passed through ``clean`` before it reaches
the terminal (JSON needs no help: ``json.dumps`` escapes control characters).
The width rule (``lore._terminal``) is applied here, so no command prints past
the terminal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import click

from lore._terminal import output_width

if TYPE_CHECKING:
    from rich.console import Console

# ESC- and C1-introduced sequences: CSI (ESC [ / 0x9b) up to its final byte;
# OSC, DCS, SOS, PM, APC (ESC ] P X ^ _ / 0x9d 0x90 0x98 0x9e 0x9f) up to BEL
# or ST (ESC \ / 0x9c), or to the end of the text when unterminated; any other
# two-byte ESC sequence.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])(?:[^\x07\x1b\x9c]|\x1b(?!\\))*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?")
# What remains of C0 (but newline and tab), DEL and C1.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: object) -> str:
    """``text`` as a string without terminal control sequences or control characters.

    Newlines and tabs stay; everything else below 0x20, DEL, the C1 range and
    whole escape sequences (CSI, OSC, DCS, ...) are dropped, so printed file
    content cannot move the cursor, retitle the window or set the clipboard.
    """
    return _CONTROLS.sub("", _SEQUENCES.sub("", str(text)))


def counted(count: int, noun: str) -> str:
    """``1 vector``, ``2 vectors``: a count with its noun in the right number (regular plurals)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def echo(text: object = "", *, err: bool = False) -> None:
    """``click.echo`` of ``clean(text)``: the one way commands print plain lines."""
    click.echo(clean(text), err=err)


def notice(text: str) -> None:
    """A degraded-mode notice or a hint, on stderr so pipes carry only results."""
    echo(f"Note: {text}", err=True)


def echo_json(payload: Any, *, file: IO[str] | None = None) -> None:
    """Write ``payload`` to stdout (or ``file``) as indented JSON (non-JSON values as strings).

    ``ensure_ascii=False`` keeps non-ASCII text readable; control characters
    are still escaped by ``json.dumps`` (``\\u001b``), so JSON needs no cleaning.
    """
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str), file=file)


def make_console(*, stderr: bool = False, file: IO[str] | None = None,
                 width: int | None = None) -> Console:
    """A rich console that fits ``output_width``, reads no markup and guesses no highlights.

    Args:
        stderr: write to stderr instead of stdout.
        file: write here instead (a server rendering for a client: never a terminal).
        width: the width to fit instead of ``output_width``'s.
    """
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=width, force_terminal=False, highlight=False,
                       markup=False, emoji=False)
    return Console(stderr=stderr, width=width or output_width(stderr=stderr), highlight=False,
                   markup=False, emoji=False)


@dataclass(frozen=True)
class Printer:
    """Where a command's answer goes: the terminal (``None`` streams), or buffers in a server.

    Attributes:
        console: lays out the hits (its file is ``out``'s, or stdout).
        out: stdout's replacement, or None for stdout.
        err: stderr's replacement, or None for stderr.
    """

    console: Console
    out: IO[str] | None = None
    err: IO[str] | None = None

    def line(self, text: object) -> None:
        click.echo(clean(text), file=self.out)

    def note(self, text: str) -> None:
        click.echo(clean(f"Note: {text}"), file=self.err, err=self.err is None)

    def json(self, payload: Any) -> None:
        echo_json(payload, file=self.out)
