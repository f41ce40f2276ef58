"""The width lore's human output fits, in a module light enough for the console script.

``lore.cli`` lays its text out to this width, and ``lore.entry`` tells a server
the same width when it asks for rendered output, so both agree.
"""

from __future__ import annotations

import os
import sys

# Width of piped output unless COLUMNS says otherwise: wide enough for a
# path and a title, narrow enough to read in a pager or a log.
PIPED_WIDTH = 100


def output_width(*, stderr: bool = False) -> int:
    """The width to fit: COLUMNS if set, else the terminal's, else ``PIPED_WIDTH``."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        import shutil  # not at the top: the console script's fast path never needs it

        return shutil.get_terminal_size((PIPED_WIDTH, 24)).columns
    return PIPED_WIDTH
