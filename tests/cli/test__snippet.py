"""Markdown out of snippets, with the highlight offsets moved to match."""

from __future__ import annotations

import re

import pytest

from lore.cli._snippet import first_paragraph, mark, strip_markdown


def marked(text: str, word: str) -> str:
    spans = [m.span() for m in re.finditer(word, text, re.IGNORECASE)]
    plain, moved = strip_markdown(text, spans)
    return mark(plain, moved, "<", ">")


@pytest.mark.parametrize("raw, expected", [
    ("the **cache** is `shared`", "the <cache> is shared"),
    ("see [[store-notes|the cache page]] now", "see the <cache> page now"),
    ("see [[cache]] now", "see <cache> now"),
    ("read [the cache](https://x.org/cache) docs", "read the <cache> docs"),
    ("```python\ncache = 1\n```\n## Cache rules", "<cache> = 1 <Cache> rules"),
    ("an *emph* cache and snake_case_cache", "an emph <cache> and snake_case_<cache>"),
    ("text <br/> cache --version <version>", "text <cache> --version <version>"),
])
def test_strip_markdown_keeps_words_and_moves_highlights(raw: str, expected: str) -> None:
    assert marked(raw, "cache") == expected


def test_a_highlight_inside_removed_syntax_is_dropped() -> None:
    plain, spans = strip_markdown("[docs](https://x.org/cache)", [(20, 25)])
    assert plain == "docs" and spans == []


def test_first_paragraph_skips_headings_and_lists() -> None:
    body = "# Context\n\n- [ ] todo\n\nThe **real** description of this task, in prose.\n\nMore."
    assert first_paragraph(body) == "The real description of this task, in prose."
