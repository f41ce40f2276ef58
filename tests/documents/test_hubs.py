"""Hub pages (dashboards, indexes, maps of content) are told from content by their shape."""

from __future__ import annotations

from pathlib import Path

from lore.documents.hubs import is_hub, link_shape


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("\n---", 1)[1]
    return text


def test_every_kano_dashboard_is_a_hub(kano_corpus: Path) -> None:
    dashboards = sorted(kano_corpus.rglob("views/Dashboard_*.md"))
    assert len(dashboards) >= 9
    assert [p.name for p in dashboards if not is_hub(_body(p))] == []


def test_no_kano_adr_is_a_hub(kano_corpus: Path) -> None:
    adrs = sorted(kano_corpus.rglob("decisions/ADR-*.md"))
    assert len(adrs) >= 40
    assert [p.name for p in adrs if is_hub(_body(p))] == []


def test_no_kano_work_item_is_a_hub(kano_corpus: Path) -> None:
    items = [p for p in kano_corpus.rglob("items/**/*.md") if not p.name.endswith(".index.md")]
    assert len(items) >= 400
    assert [p.name for p in items if is_hub(_body(p))] == []


def test_a_list_of_links_is_a_hub_and_prose_with_links_is_not() -> None:
    listing = "# Active\n\n" + "".join(f"- [Item {i}](items/i{i}.md)\n" for i in range(5))
    assert is_hub(listing)
    prose = ("We chose SQLite because the index must be rebuildable from files, see "
             "[the ADR](adr.md). The catalog is derived data and never the truth.\n\n"
             "- [ADR](adr.md)\n- [Task](t.md)\n\nEverything else is explained in prose here, "
             "at some length, so that links are a small part of the words on the page.\n")
    assert not is_hub(prose)


def test_build_stamps_and_code_do_not_count() -> None:
    body = ("<!-- kano:build\nvcs.hash: abc\nvcs.branch: main\n-->\n\n```\nlong code line words\n"
            "more words in code here\n```\n- [A](a.md)\n- [B](b.md)\n")
    shape = link_shape(body)
    assert (shape.link_lines, shape.prose_words) == (2, 0)
    assert is_hub(body)


def test_one_link_or_an_empty_page_is_not_a_hub() -> None:
    assert not is_hub("- [Only](one.md)\n")
    assert not is_hub("")
