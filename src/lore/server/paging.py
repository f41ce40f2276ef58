"""Answers sized for an agent: a hard byte cap, and a cursor to the rest.

An agent's context is small and expensive, so no MCP answer may exceed its
cap, whatever the index holds. Lists are cut at an item boundary and carry a
``next_cursor``; a document's text is cut at a line boundary and carries the
line to continue from. The cursor is an opaque string the agent passes back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lore.errors import QueryError

DEFAULT_MAX_BYTES = 16_000
HARD_MAX_BYTES = 64_000
_ENVELOPE_BYTES = 400     # room for the fields around a page (cursor, notices, counts)


def dumps(payload: Any) -> str:
    """Compact JSON, as the agent will read it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def size(payload: Any) -> int:
    """UTF-8 bytes of ``payload`` as compact JSON."""
    return len(dumps(payload).encode("utf-8"))


def clamp_cap(max_bytes: int | None) -> int:
    """The cap to apply: the caller's, within [1 KB, HARD_MAX_BYTES]."""
    if max_bytes is None:
        return DEFAULT_MAX_BYTES
    return max(1_000, min(int(max_bytes), HARD_MAX_BYTES))


def parse_cursor(cursor: str | None) -> int:
    """The offset a cursor stands for (0 for none).

    Raises:
        QueryError: the cursor was not one this server handed out.
    """
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise QueryError(f"The cursor {cursor!r} is not valid; pass the next_cursor of the "
                         "previous answer, or omit it to start from the beginning.")
    return int(cursor)


def page(items: Sequence[Any], offset: int, cap: int, *,
         more_after: bool = False) -> tuple[list[Any], str | None]:
    """The items from ``offset`` that fit in ``cap`` bytes, and the cursor to the rest.

    At least one item is returned when any is left, cut down by the caller
    beforehand if a single item could exceed the cap.

    Args:
        items: all items known so far (already JSON-ready).
        offset: where this page starts.
        cap: the byte budget of the page's items.
        more_after: there may be items beyond ``items`` (a search asked for a
            limited number), so a full page still gets a cursor.
    """
    budget = cap - _ENVELOPE_BYTES
    chosen: list[Any] = []
    used = 2
    for item in items[offset:]:
        cost = size(item) + 1
        if chosen and used + cost > budget:
            break
        chosen.append(item)
        used += cost
    end = offset + len(chosen)
    has_more = end < len(items) or (more_after and end == len(items) and bool(chosen))
    return chosen, (str(end) if has_more else None)


def cut_text(text: str, cap: int) -> str:
    """``text`` cut to at most ``cap`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= cap:
        return text
    return data[:cap].decode("utf-8", errors="ignore") + "…"
