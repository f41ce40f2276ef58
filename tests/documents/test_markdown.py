"""Front matter splitting, heading outline and link extraction."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from lore.documents.markdown import (
    Heading,
    parse_body,
    parse_headings,
    parse_markdown,
    resolve_markdown_link,
    split_front_matter,
    to_json_value,
)
from lore.documents.model import Link


def test_front_matter_split_and_json_values() -> None:
    text = "---\nid: T-1\ncreated: 2026-01-05\nat: 2026-01-05 10:30:00\ntags: [a, b]\n---\n# Body\n"
    front, body, warnings = split_front_matter(text)
    assert front == {"id": "T-1", "created": "2026-01-05", "at": "2026-01-05T10:30:00",
                     "tags": ["a", "b"]}
    assert body == "# Body\n"
    assert warnings == []
    json.dumps(front)


def test_no_front_matter_keeps_text() -> None:
    text = "# Title\n\n---\n\nafter a rule\n"
    assert split_front_matter(text) == ({}, text, [])


def test_empty_front_matter_is_an_empty_mapping() -> None:
    assert split_front_matter("---\n---\nbody") == ({}, "body", [])


def test_dots_close_front_matter() -> None:
    front, body, _ = split_front_matter("---\na: 1\n...\nbody")
    assert front == {"a": 1} and body == "body"


def test_malformed_yaml_becomes_a_warning_with_line() -> None:
    lines = ["---", "id: T-1", "title: [unclosed", "state: Done", "---", "# Body"]
    text = "\n".join(lines)
    front, body, warnings = split_front_matter(text)
    assert front == {}
    assert body == text
    assert len(warnings) == 1
    try:
        yaml.safe_load("\n".join(lines[1:4]))
    except yaml.YAMLError as exc:
        expected_line = exc.problem_mark.line + 2  # type: ignore[attr-defined]
    assert f"line {expected_line}" in warnings[0]
    assert "not valid YAML" in warnings[0] and "Fix the YAML" in warnings[0]


@pytest.mark.parametrize(("block", "kind"), [("- a\n- b", "list"), ("just words", "str"),
                                             ("42", "int")])
def test_non_mapping_front_matter_is_kept_as_body(block: str, kind: str) -> None:
    text = f"---\n{block}\n---\nbody\n"
    front, body, warnings = split_front_matter(text)
    assert front == {} and body == text
    assert warnings == [warnings[0]] and f"YAML {kind}, not a mapping" in warnings[0]


def test_unclosed_front_matter_is_kept_as_body() -> None:
    text = "---\nid: x\n# never closed\n"
    front, body, warnings = split_front_matter(text)
    assert front == {} and body == text
    assert "never closed" in warnings[0]


def test_parse_markdown_never_raises_on_bad_front_matter() -> None:
    parsed = parse_markdown("---\n: : :\n  - [\n---\n# Still here\n", "a.md")
    assert parsed.front_matter == {}
    assert [heading.text for heading in parsed.structure.headings] == ["Still here"]
    assert parsed.warnings


def test_to_json_value_handles_yaml_types() -> None:
    value = {1: {dt.date(2026, 1, 2), dt.date(2026, 1, 1)}, "n": float("nan"),
             "b": b"raw", "t": (1, 2), "when": dt.datetime(2026, 1, 2, 3, 4, 5)}
    converted = to_json_value(value)
    assert converted == {"1": ["2026-01-01", "2026-01-02"], "n": "nan", "b": "raw",
                         "t": [1, 2], "when": "2026-01-02T03:04:05"}
    json.dumps(converted, allow_nan=False)


def test_headings_levels_text_and_spans() -> None:
    lines = [
        "# Top `code` *em*",     # 0
        "",                      # 1
        "```",                   # 2
        "# not a heading",       # 3
        "```",                   # 4
        "Setext title",          # 5
        "------------",          # 6
        "### Deep ###",          # 7
        "    # indented code",   # 8
    ]
    body = "\n".join(lines)
    assert parse_headings(body) == (
        Heading(1, "Top code em", 0, 1),
        Heading(2, "Setext title", 5, 7),
        Heading(3, "Deep", 7, 8),
    )


def test_wiki_links() -> None:
    body = ("See [[Target Note]], [[KABSD-TSK-0001_slug|alias]] and [[Page#Section]].\n\n"
            "`[[in code]]` [[ ]]\n\n[[../adr/ADR-0001_x.md]]")
    links = parse_body(body, "notes/sub/here.md").links
    assert links == (Link("wiki", "Target Note"), Link("wiki", "KABSD-TSK-0001_slug"),
                     Link("wiki", "Page"), Link("wiki", "notes/adr/ADR-0001_x.md"))


def test_markdown_links_resolve_to_root_relative_paths() -> None:
    lines = [
        "[a](../decisions/ADR-0002_x.md#status) [b](same.md) [c](/docs/top.md)",
        "[ext](https://example.com/x.md) [mail](mailto:a@b.c) [anchor](#here)",
        "[img](pic.png) [out](../../../../outside.md) [sp](with%20space.md)",
        "[ref][r] `[code](x.md)` ![image](i.md)",
        "",
        "[r]: ./refs/target.markdown",
    ]
    body = "\n".join(lines)
    links = parse_body(body, "items/task/t.md").links
    assert links == (
        Link("markdown", "items/decisions/ADR-0002_x.md"),
        Link("markdown", "items/task/same.md"),
        Link("markdown", "docs/top.md"),
        Link("markdown", "items/task/with space.md"),
        Link("markdown", "items/task/refs/target.markdown"),
    )


def test_links_are_deduplicated_in_order() -> None:
    body = "[[B]] [x](a.md) [[B]] [y](a.md#other) [[A]]"
    assert parse_body(body).links == (Link("wiki", "B"), Link("markdown", "a.md"),
                                      Link("wiki", "A"))


@pytest.mark.parametrize(("href", "folder", "expected"), [
    ("x.md", "", "x.md"),
    ("./a/../b.md", "f", "f/b.md"),
    ("../x.md", "", None),
    ("//cdn/x.md", "", None),
    ("C:/x.md", "", None),
    ("x.md?raw=1", "f", "f/x.md"),
    ("notes.txt", "", None),
])
def test_resolve_markdown_link(href: str, folder: str, expected: str | None) -> None:
    assert resolve_markdown_link(href, folder) == expected


def test_real_work_item_front_matter(kano_corpus: Path) -> None:
    path = next(kano_corpus.rglob("KABSD-TSK-0350_*.md"))
    text = path.read_text(encoding="utf-8")
    parsed = parse_markdown(text, path.relative_to(kano_corpus).as_posix())
    raw = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert parsed.front_matter == to_json_value(raw)
    assert parsed.front_matter["id"] == "KABSD-TSK-0350"
    assert parsed.warnings == ()
    assert parsed.body.lstrip().startswith("# ")
    heading_lines = [line[2:].strip() for line in parsed.body.split("\n")
                     if line.startswith("# ")]
    assert [heading.text for heading in parsed.structure.headings] == heading_lines


def alias_bomb(levels: int, width: int = 9) -> str:
    """Front matter whose nested aliases expand to width ** levels values."""
    lines = ["---", "a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join([*lines, "---", "# Body", "text"])


def test_yaml_alias_bomb_is_refused_fast_and_kept_as_body() -> None:
    """#14 item 2: a few hundred bytes that expand to 9 ** 12 values."""
    import time

    text = alias_bomb(12)
    assert len(text) < 700
    started = time.process_time()
    parsed = parse_markdown(text, "bomb.md")
    assert time.process_time() - started < 5  # unbounded, this ran for minutes
    assert parsed.front_matter == {}
    assert "aliases" in parsed.warnings[0]
    assert parsed.body == text  # nothing lost: searchable as text


def test_modest_aliases_still_expand() -> None:
    front, _, warnings = split_front_matter(alias_bomb(3, width=3))
    assert warnings == []
    assert front["a2"] == [[["x"] * 3] * 3] * 3


def test_huge_front_matter_block_is_kept_as_body() -> None:
    text = "---\nk: " + "v" * 1_100_000 + "\n---\nbody"
    front, body, warnings = split_front_matter(text)
    assert front == {} and body == text
    assert "over the limit" in warnings[0]
