"""Property-based fuzzing (#14 "Must show"): the front matter and Markdown parser, the
chunker, the query parser with FTS, filters and the config loader never raise anything
but lore's own errors, and stay within bounded time (a deadline per example) and memory."""

from __future__ import annotations

import json
import math
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.config import load_settings
from lore.documents import load_document
from lore.documents.chunking import chunk_document
from lore.documents.markdown import parse_markdown
from lore.documents.sources import SourceFile
from lore.errors import ConfigError, DocumentError, QueryError
from lore.index import Index, open_index
from lore.search.limits import check_filters
from lore.settings import ChunkSettings, EmbedSettings, Settings

FUZZ = settings(max_examples=120, deadline=timedelta(seconds=10), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
MEMORY_LIMIT = 64 * 1024 * 1024   # per example, Python allocations

yaml_scalar = st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
                        st.none(), st.sampled_from(["2026-01-05", "~", "&a x", "*a", "!!str",
                                                    "[", "{", ":", "- -", "'", '"', "\\t"]))
yaml_line = st.builds(lambda k, v, indent: f"{' ' * indent}{k}: {v}",
                      st.sampled_from(["id", "type", "title", "parent", "tags", "a", "<<",
                                       "links", "decision", "&x k", "*x"]),
                      yaml_scalar.map(str), st.integers(0, 6))
alias_nest = st.integers(1, 14).map(lambda n: "\n".join(
    ["a0: &a0 [x, x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]"
                             for i in range(1, n)]))
front_matter = st.one_of(st.lists(yaml_line, max_size=12).map("\n".join), alias_nest,
                         st.text(max_size=200))
body = st.lists(st.one_of(
    st.text(max_size=80), st.sampled_from(["# H", "## H2", "```", "~~~", "[[Link]]", "[x](y.md)",
                                           "[x](../../z.md#a)", "---", "***", "> q", "- item",
                                           "1. one", "<div>", "\x1b[31m", "\u202e", "\x00"])),
    max_size=40).map("\n".join)
markdown = st.one_of(st.builds(lambda fm, b: f"---\n{fm}\n---\n{b}", front_matter, body), body,
                     st.text(max_size=500))


def bounded_memory(func: object, *args: object) -> object:
    tracemalloc.start()
    try:
        result = func(*args)  # type: ignore[operator]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{peak / 1e6:.0f} MB for one input"
    return result


@FUZZ
@given(markdown, st.sampled_from(["a.md", "x/y.md", "../b.md", ""]))
def test_markdown_parser_never_raises(text: str, relpath: str) -> None:
    parsed = bounded_memory(parse_markdown, text, relpath)
    json.dumps(parsed.front_matter)  # type: ignore[attr-defined]


@FUZZ
@given(markdown, st.integers(8, 600), st.integers(0, 100), st.integers(0, 800))
def test_chunker_never_raises(text: str, max_tokens: int, min_tokens: int,
                                             whole: int) -> None:
    data = text.encode("utf-8", "surrogatepass")
    try:
        doc = load_document(Path("/r"), SourceFile(Path("/r/a.md"), "a.md", len(data), 0), data)
    except DocumentError:
        return   # binary-looking input is refused by design
    chunks = bounded_memory(chunk_document, doc,
                            ChunkSettings(max_tokens=max_tokens, min_tokens=min_tokens,
                                          whole_document_tokens=whole))
    assert len(chunks) <= max(1, len(text))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("fuzz-notes")
    for i in range(5):
        (root / f"n{i}.md").write_text(f"---\ntype: ADR\nstatus: open\nid: ADR-{i}\n---\n"
                                       f"# Decision {i}\n\nuse sqlite and faiss {i}\n")
    index = open_index(root, settings=Settings(embed=EmbedSettings(enabled=False)))
    index.sync()
    return index


query_text = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(
    ['"', "'", "-", "*", "^", ":", "type:", "status:ADR", "OR", "AND", "NOT", "NEAR", "(", ")",
     "ADR-1", "sqlite", "{", "}", "\\", "+", "\x00", "　", "漢字"]), max_size=30).map(" ".join))


@FUZZ
@given(query_text)
def test_query_parser_and_keyword_search_never_raise(small_index: Index, text: str) -> None:
    try:
        small_index.search(text, mode="keyword")
    except QueryError:
        pass


json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                    st.text(max_size=10)),
                          lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                  st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=4)), max_leaves=12)


@FUZZ
@given(st.one_of(json_value, st.dictionaries(st.sampled_from(["type", "status", "id", "x"]),
                                             json_value, max_size=3)))
def test_filters_are_accepted_or_refused_clearly(small_index: Index, filters: object) -> None:
    try:
        small_index.search("sqlite", filters=check_filters(filters), mode="keyword")
    except QueryError:
        pass   # refused clearly: a bad type, an unknown key


toml_value = st.one_of(st.integers(-10 ** 6, 10 ** 12), st.floats().map(
    lambda f: "nan" if math.isnan(f) else ("inf" if f == float("inf") else
                                           "-inf" if f == float("-inf") else repr(f))),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=20).map(json.dumps), st.sampled_from(['["*.md"]', "[]", "{}", '""']))
toml_key = st.sampled_from(["limit", "rrf_k", "dir", "max_tokens", "provider", "base_url",
                            "api_key_env", "dimensions", "follow_symlinks_outside", "mode",
                            "timeout_s", "max_file_bytes", "decay", "nope"])
toml_doc = st.one_of(
    st.lists(st.tuples(st.sampled_from(["index", "chunking", "search", "graph", "embed.primary",
                                        "rerank", "bogus"]), toml_key, toml_value),
             max_size=6).map(lambda items: "\n".join(f"[{s}]\n{k} = {v}" for s, k, v in items)),
    st.text(max_size=200))


@FUZZ
@given(toml_doc)
def test_config_loader_accepts_or_refuses_clearly(tmp_path: Path, text: str) -> None:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "lore.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        bounded_memory(load_settings, root)
    except ConfigError:
        pass
