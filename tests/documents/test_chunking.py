"""Structure-aware chunking: whole documents, sections, splits, merges and worklog days."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from lore.documents import load_document
from lore.documents.chunking import (
    CHUNKER_VERSION,
    TokenMeasure,
    chunk_document,
    estimate_tokens,
)
from lore.documents.model import Chunk, Document
from lore.documents.sources import SourceFile
from lore.settings import ChunkSettings

SETTINGS = ChunkSettings()
DATE = re.compile(r"^(?:- )?(\d{4}-\d{2}-\d{2})")


def doc(body: str, title: str = "Doc") -> Document:
    return Document(path="d.md", doc_id="d.md", uid=None, title=title, doctype="Note",
                    metadata={}, links=(), body=body, content_hash="", size=len(body),
                    mtime_ns=0)


def words(count: int, seed: str = "word") -> str:
    """``count`` distinct words and nothing else: 1 piece each."""
    return " ".join(f"{seed}{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(count))


def paragraph(tokens: int, seed: str = "w") -> str:
    """A paragraph of sentences estimated at about ``tokens`` tokens."""
    sentence = words(9, seed) + "."  # 10 pieces = 13 tokens
    return " ".join([sentence] * max(1, tokens // 13))


def check_budgets(chunks: list[Chunk], settings: ChunkSettings) -> None:
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.token_estimate == estimate_tokens(chunk.text)
        limit = settings.whole_document_tokens if chunk.kind == "document" else settings.max_tokens
        assert chunk.token_estimate <= limit, chunk


def normalised(text: str) -> list[str]:
    return text.split()


def word_set(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_version_is_a_string() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


def test_estimate_counts_pieces() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("snake_case") == estimate_tokens("a b c") == 4  # ceil(3 * 1.3)
    assert estimate_tokens("2026-01-05") == 7  # 5 pieces
    assert estimate_tokens("中文字") == 4       # one piece per CJK character
    assert estimate_tokens(words(100)) == 130


def test_small_document_is_one_chunk() -> None:
    body = "\n# Title\n\nShort note with [a link](x.md).\n\n## Part\n\nmore\n"
    chunks = chunk_document(doc(body), SETTINGS)
    assert chunks == [Chunk(0, (), body.strip(), "document", estimate_tokens(body.strip()))]


def test_empty_document_gives_one_empty_chunk() -> None:
    assert chunk_document(doc(""), SETTINGS) == [Chunk(0, (), "", "document", 0)]


def test_sections_follow_headings() -> None:
    a, b, c, d = paragraph(100, "a"), paragraph(100, "b"), paragraph(100, "c"), paragraph(100, "d")
    body = f"# The Title\n\n{a}\n\n## One\n\n{b}\n\n### Deep\n\n{c}\n\n## Two\n\n{d}\n"
    chunks = chunk_document(doc(body, title="The Title"), SETTINGS)
    assert [(chunk.kind, chunk.heading_path, chunk.text) for chunk in chunks] == [
        ("section", (), a), ("section", ("One",), b), ("section", ("One", "Deep"), c),
        ("section", ("Two",), d)]
    check_budgets(chunks, SETTINGS)


def test_top_heading_kept_when_it_is_not_the_title() -> None:
    body = f"# Context\n\n{paragraph(200, 'a')}\n\n# Goal\n\n{paragraph(200, 'b')}\n"
    chunks = chunk_document(doc(body, title="Something else"), SETTINGS)
    assert [chunk.heading_path for chunk in chunks] == [("Context",), ("Goal",)]


def test_long_section_splits_at_paragraphs() -> None:
    paragraphs = [paragraph(100, seed) for seed in "abcdefg"]
    body = "## Long\n\n" + "\n\n".join(paragraphs)
    chunks = chunk_document(doc(body), SETTINGS)
    assert len(chunks) > 1
    check_budgets(chunks, SETTINGS)
    assert all(chunk.heading_path == ("Long",) for chunk in chunks)
    rebuilt = [part for chunk in chunks for part in chunk.text.split("\n\n")]
    assert rebuilt == paragraphs


def test_giant_paragraph_splits_at_sentences_then_hard() -> None:
    sentences = [words(20, f"s{i}") + "." for i in range(40)]
    soup = words(900, "x")  # no punctuation, no line breaks: only a hard split fits
    body = " ".join(sentences) + "\n\n" + soup
    settings = replace(SETTINGS, whole_document_tokens=10)
    chunks = chunk_document(doc(body), settings)
    check_budgets(chunks, settings)
    assert normalised(" ".join(chunk.text for chunk in chunks)) == normalised(body)
    sentence_chunks = [chunk for chunk in chunks if chunk.text.endswith(".")]
    assert sentence_chunks and all(chunk.text.startswith("s") for chunk in sentence_chunks)


def test_giant_word_is_cut_inside_as_a_last_resort() -> None:
    giant = ".".join(["x"] * 400)  # one whitespace-free word of 799 pieces
    settings = replace(SETTINGS, whole_document_tokens=10, max_tokens=100)
    chunks = chunk_document(doc(f"intro words here\n\n{giant}"), settings)
    check_budgets(chunks, settings)
    assert "".join(chunk.text for chunk in chunks[1:]) == giant


def test_bare_headings_stay_as_text_and_ancestors_are_kept() -> None:
    body = (f"{paragraph(200, 'p')}\n\n## Contents\n\n### Child\n\nshort child text.\n\n"
            f"# A whole paragraph written as a heading\n#\n## Next\n\n{paragraph(200, 'n')}")
    chunks = chunk_document(doc(body), SETTINGS)
    check_budgets(chunks, SETTINGS)
    assert chunks[0].heading_path == ()
    assert chunks[0].text.endswith("## Contents\n\n### Child\n\nshort child text.\n\n"
                                   "# A whole paragraph written as a heading")
    assert chunks[-1].heading_path == ("Next",)


def test_code_fence_is_not_cut_inside() -> None:
    code = "```python\n" + "\n\n".join(f"x{i} = {i}" for i in range(30)) + "\n```"
    body = f"## Code\n\n{paragraph(200, 'p')}\n\n{code}\n\n{paragraph(200, 'q')}"
    chunks = chunk_document(doc(body), SETTINGS)
    check_budgets(chunks, SETTINGS)
    assert any(chunk.text == code for chunk in chunks)


def test_tiny_sections_merge_without_losing_headings() -> None:
    body = (f"## Intro\n\n{paragraph(150, 'i')}\n\n## Tiny\n\nok.\n\n## Also tiny\n\nfine.\n\n"
            f"## Big\n\n{paragraph(150, 'b')}\n\n## Last\n\nbye.\n")
    chunks = chunk_document(doc(body), SETTINGS)
    check_budgets(chunks, SETTINGS)
    assert all(chunk.token_estimate >= SETTINGS.min_tokens for chunk in chunks)
    # merged sections share the common (here empty) path and keep their own headings as text
    assert chunks[0].heading_path == ()
    assert chunks[0].text.startswith("## Intro\n\n") and "## Tiny\n\nok." in chunks[0].text
    for heading in ("Intro", "Tiny", "Also tiny", "Big", "Last"):
        assert sum(f"## {heading}\n" in chunk.text or heading in chunk.heading_path
                   for chunk in chunks) == 1


def test_worklog_is_split_per_day() -> None:
    worklog = [
        "2026-01-05 09:00 [agent=a] Created item",
        "2026-01-05 17:10 [agent=a] State -> InProgress.",
        "  - continuation of the entry above",
        "- 2026-01-07 10:00 [agent=b] Bullet entry",
        "2026-01-05 18:00 [agent=a] Late entry for an earlier day",
    ]
    body = f"# Context\n\n{paragraph(300, 'c')}\n\n# Worklog\n\n" + "\n".join(worklog) + "\n"
    chunks = chunk_document(doc(body), SETTINGS)
    days = [chunk for chunk in chunks if chunk.kind == "worklog"]
    assert [chunk.heading_path for chunk in days] == [("Worklog", "2026-01-05"),
                                                     ("Worklog", "2026-01-07")]
    assert days[0].text.split("\n") == [worklog[0], worklog[1], worklog[2], worklog[4]]
    assert days[1].text == worklog[3]
    check_budgets(chunks, SETTINGS)


def test_long_worklog_day_stays_within_budget() -> None:
    entries = [f"2026-02-01 10:{i:02d} [agent=x] {words(30, f'e{i}')}" for i in range(40)]
    body = "## Worklog (append-only)\n\nNotes before entries.\n\n" + "\n".join(entries)
    chunks = chunk_document(doc(body), SETTINGS)
    check_budgets(chunks, SETTINGS)
    days = [chunk for chunk in chunks if chunk.kind == "worklog"]
    assert len(days) > 1
    assert {chunk.heading_path for chunk in days} == {("Worklog (append-only)", "2026-02-01")}
    assert "\n".join(chunk.text for chunk in days).split("\n") == entries
    assert chunks[0].kind == "section" and chunks[0].text.endswith("Notes before entries.")


def test_worklog_like_headings_without_dates_are_sections() -> None:
    body = (f"## Worklog Discipline\n\n{paragraph(200, 'd')}\n\n## Worklog\n\n"
            "YYYY-MM-DD HH:MM [agent=<id>] message\n\n" + paragraph(200, "e"))
    chunks = chunk_document(doc(body), SETTINGS)
    assert {chunk.kind for chunk in chunks} == {"section"}


def test_chunking_is_deterministic() -> None:
    body = f"# A\n\n{paragraph(400, 'a')}\n\n# Worklog\n\n2026-01-01 x\n2026-01-02 y\n"
    assert chunk_document(doc(body), SETTINGS) == chunk_document(doc(body), SETTINGS)


def dates_in(text: str) -> set[str]:
    """Dates that start worklog entry lines."""
    return {match.group(1) for line in text.split("\n") if (match := DATE.match(line))}


def load_kano(corpus: Path, path: Path) -> Document:
    relpath = path.relative_to(corpus).as_posix()
    return load_document(corpus, SourceFile(path, relpath, 0, 0), path.read_bytes())


def test_real_task_worklog_days(kano_corpus: Path) -> None:
    """A real task with a multi-day worklog gets one worklog chunk per date in its file."""
    for path in sorted(kano_corpus.rglob("KABSD-TSK-*.md")):
        text = path.read_text(encoding="utf-8")
        worklog = text.split("\n# Worklog\n", 1)
        dates = dates_in(worklog[-1])
        document = load_kano(kano_corpus, path)
        if len(worklog) == 2 and len(dates) >= 2 and \
                estimate_tokens(document.body) > SETTINGS.whole_document_tokens:
            break
    else:
        pytest.fail("no multi-day worklog task in the kano corpus")
    chunks = chunk_document(document, SETTINGS)
    days = [chunk for chunk in chunks if chunk.kind == "worklog"]
    assert {chunk.heading_path for chunk in days} == {("Worklog", date) for date in dates}
    for chunk in days:
        assert dates_in(chunk.text) == {chunk.heading_path[-1]}
    check_budgets(chunks, SETTINGS)
    assert chunk_document(document, SETTINGS) == chunks


def test_kano_corpus_chunks_respect_budgets(kano_corpus: Path) -> None:
    kinds: set[str] = set()
    for path in sorted(kano_corpus.rglob("*.md")):
        document = load_kano(kano_corpus, path)
        chunks = chunk_document(document, SETTINGS)
        check_budgets(chunks, SETTINGS)
        kinds.update(chunk.kind for chunk in chunks)
        if len(chunks) > 1:
            # nothing of the body is lost: every word of it is in some chunk
            assert word_set(document.body) <= word_set(document.title) | word_set(
                "\n".join(" ".join(chunk.heading_path) + " " + chunk.text for chunk in chunks))
    assert kinds == {"document", "section", "worklog"}


def test_empty_and_title_headings_name_nothing() -> None:
    body = f"# Doc\n\n## Part\n\n{paragraph(200, 'a')}\n\n#\n\n## After\n\n{paragraph(200, 'b')}\n#"
    chunks = chunk_document(doc(body, title="Doc"), SETTINGS)
    assert [chunk.heading_path for chunk in chunks] == [("Part",), ("After",)]
    assert all("#" not in chunk.text for chunk in chunks)


def word_measure(window: int) -> TokenMeasure:
    """A tokenizer stand-in: two tokens per word plus two special tokens."""
    return TokenMeasure("words-x2", window, lambda texts: [2 * len(t.split()) + 2 for t in texts])


def test_a_measure_recuts_chunks_the_estimate_lets_overflow() -> None:
    document = doc(words(200), title="Title")        # one "document" chunk by the estimate
    (planned,) = chunk_document(document, SETTINGS)
    measure = word_measure(128)
    assert measure.count([planned.context_text("Title")])[0] > 128
    chunks = chunk_document(document, SETTINGS, measure)
    counts = measure.count([c.context_text("Title") for c in chunks])
    assert max(counts) <= 128 and [c.token_estimate for c in chunks] == counts
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert " ".join(c.text for c in chunks).split() == words(200).split()   # nothing lost


def test_chunks_that_fit_are_kept_with_their_exact_count() -> None:
    document = doc(words(20))
    (chunk,) = chunk_document(document, SETTINGS, word_measure(256))
    assert chunk.text == words(20) and chunk.token_estimate == 2 * (20 + 1) + 2


@pytest.mark.model
def test_no_scifact_chunk_exceeds_the_model_window(minilm_home: Path, scifact_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from lore.embed.runner import EmbeddingRunner
    from lore.eval.beir import iter_corpus
    from lore.eval.runner import markdown_for
    from lore.settings import Settings

    monkeypatch.setenv("LORE_HOME", str(minilm_home))
    measure = EmbeddingRunner.from_settings(Settings().embed).chunk_measure()
    assert measure is not None and measure.window == 256
    documents = []
    for entry, _ in zip(iter_corpus(scifact_dir), range(400)):
        data = markdown_for(entry).encode()
        source = SourceFile(Path("/x.md"), f"{entry.id}.md", len(data), 0)
        documents.append(load_document(Path("/"), source, data))

    def longest(chunks: list[tuple[str, Chunk]]) -> list[int]:
        return measure.count([chunk.context_text(title) for title, chunk in chunks])

    estimated = longest([(d.title, c) for d in documents for c in chunk_document(d, SETTINGS)])
    assert sum(n > 256 for n in estimated) > 50     # the estimate alone overflows
    fitted = longest([(d.title, c) for d in documents
                      for c in chunk_document(d, SETTINGS, measure)])
    assert max(fitted) <= 256
