"""`lore search`: the JSON envelope, human output, query words, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _cli_notes import ENV, NOTES, indexed_notes, invoke
from click.testing import CliRunner

from lore.cli import main
from lore.index import Index


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small folder of notes, indexed (keyword-only)."""
    return indexed_notes(tmp_path / "notes")


def search_envelope(root: Path, *args: str) -> dict[str, Any]:
    result = invoke("search", *args, "--root", str(root), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def search_json(root: Path, *args: str) -> list[dict[str, Any]]:
    hits = search_envelope(root, *args)["hits"]
    assert isinstance(hits, list)
    return hits


def test_json_is_a_list_of_hits_with_stable_fields(root: Path) -> None:
    hits = search_json(root, "embedding cache", "--explain")
    assert {h["path"] for h in hits} == set(NOTES)
    for hit in hits:
        assert set(hit) == {"path", "doc_id", "title", "doctype", "score", "snippet",
                            "highlights", "metadata", "chunk", "explain", "via", "stale",
                            "also_at", "vector_only", "hub"}
        assert isinstance(hit["explain"], dict) and "keyword" in hit["explain"]["legs"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_words_need_no_quotes_and_inline_filters_work(root: Path) -> None:
    hits = search_json(root, "type:ADR", "embedding", "cache")
    assert [h["path"] for h in hits] == ["decisions/ADR-0001_sqlite.md"]


def test_filter_option_and_limit(root: Path) -> None:
    hits = search_json(root, "cache", "--filter", "state=done", "-f", "type=Task")
    assert [h["doc_id"] for h in hits] == ["KABSD-TSK-0001"]
    assert len(search_json(root, "cache", "--limit", "1")) == 1


def test_id_query_pins_its_document(root: Path) -> None:
    hits = search_json(root, "kabsd-tsk-0002")
    assert hits[0]["doc_id"] == "KABSD-TSK-0002"


def test_chunks_flag_gives_chunk_hits(root: Path) -> None:
    hits = search_json(root, "cache", "--chunks")
    assert all(set(h["chunk"]) == {"ordinal", "heading_path", "kind"} for h in hits)


def test_human_output_marks_terms(root: Path) -> None:
    result = invoke("search", "sidecar", "--root", str(root), "--explain")
    assert result.exit_code == 0, result.output
    assert "Vector store" in result.output
    assert "tasks/KABSD-TSK-0002_store.md" in result.output
    assert "«sidecar»" in result.output and "[sidecar]" not in result.output
    assert "legs: keyword #1" in result.output


def test_no_matches_is_not_an_error(root: Path) -> None:
    result = invoke("search", "zzzzqqq", "--root", str(root))
    assert result.exit_code == 0
    assert "No matches" in result.output
    assert search_json(root, '"unbalanced', "NEAR(", "-") == []


@pytest.mark.parametrize("args, code", [
    (["search", "x", "--filter", "novalue"], 2),
    (["search", "x", "--limit", "0"], 2),
    (["search"], 2),
    (["search", "x", "--mode", "vector"], 1),
])
def test_usage_errors(root: Path, args: list[str], code: int) -> None:
    result = invoke(*args, "--root", str(root))
    assert result.exit_code == code, result.output


def test_missing_index_says_what_to_do(tmp_path: Path) -> None:
    result = invoke("search", "x", "--root", str(tmp_path))
    assert result.exit_code == 1
    assert "lore index" in result.output


def test_commands_have_help_with_examples() -> None:
    for command in ("search", "show", "related"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output


def test_kano_id_search(kano_index: Index) -> None:
    result = invoke("search", "KABSD-TSK-0350", "--root", str(kano_index.root),
                    "--index-dir", str(kano_index.index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert "KABSD-TSK-0350" in json.loads(result.stdout)["hits"][0]["path"]


def test_json_is_an_envelope_with_notices(root: Path) -> None:
    data = search_envelope(root, "cache", "-n", "2", "--filter", "type=Task")
    assert set(data) == {"query", "mode", "limit", "filters", "count", "weak_match", "hits",
                         "notices"}
    assert data["weak_match"] is False
    assert data["query"] == "cache" and data["limit"] == 2
    assert data["filters"] == {"type": ["Task"]} and data["count"] == len(data["hits"]) == 2
    result = invoke("search", "cache", "--mode", "hybrid", "--root", str(root), "--json",
                    env={"LORE_EMBED__ENABLED": "true"})
    hybrid = json.loads(result.stdout)
    assert hybrid["mode"] == "hybrid" and hybrid["hits"]
    assert any("keyword" in n for n in hybrid["notices"])   # no vectors: degraded, said so


def test_fail_empty_exits_1_like_grep(root: Path) -> None:
    assert invoke("search", "zzzzqqq", "--root", str(root), "--fail-empty").exit_code == 1
    empty = invoke("search", "zzzzqqq", "--root", str(root), "--fail-empty", "--json")
    assert empty.exit_code == 1 and json.loads(empty.stdout)["hits"] == []
    assert invoke("search", "cache", "--root", str(root), "--fail-empty").exit_code == 0


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_a_clear_error(root: Path, query: str) -> None:
    result = invoke("search", query, "--root", str(root))
    assert result.exit_code == 2 and "Empty query" in result.output


@pytest.mark.parametrize("args", [
    ["--", "-sidecar", "cache", "-n", "1"],
    ["-sidecar", "cache", "-n", "1"],
    ["-n", "1", "cache", "-sidecar"],
    ["-n1", "cache", "-sidecar"],
])
def test_exclusions_and_options_mix_in_any_order(root: Path, args: list[str]) -> None:
    data = search_envelope(root, *args)
    assert sorted(data["query"].split()) == ["-sidecar", "cache"]
    assert data["count"] == 1
    assert data["hits"][0]["path"] != "tasks/KABSD-TSK-0002_store.md"


def test_help_example_for_exclusions_needs_no_double_dash() -> None:
    text = invoke("search", "--help").output
    assert 'lore search -draft "release checklist" -n 4' in text
    assert "-- -draft" not in text


def test_budget_implies_context(root: Path) -> None:
    result = invoke("search", "embedding cache", "--root", str(root), "--budget", "40", "--json")
    assert result.exit_code == 0, result.output
    pack = json.loads(result.stdout)
    assert pack["budget"] == 40 and pack["used_tokens"] <= 40
    assert pack["query"] == "embedding cache" and "notices" in pack


def test_context_pack_starts_with_the_hit_and_keeps_the_budget(root: Path) -> None:
    result = invoke("search", "KABSD-TSK-0001", "--root", str(root), "--context", "-n", "1")
    assert result.exit_code == 0, result.output
    assert "## Embedding cache [KABSD-TSK-0001]" in result.stdout
    assert "The embedding cache keys vectors" in result.stdout
    roomy = json.loads(invoke("search", "KABSD-TSK-0001", "--root", str(root), "--context",
                              "-n", "1", "--budget", "2000", "--json").stdout)
    assert roomy["items"][0]["doc_id"] == "KABSD-TSK-0001"
    tight = json.loads(invoke("search", "KABSD-TSK-0001", "--root", str(root), "--context",
                              "-n", "1", "--budget", "1", "--json").stdout)
    assert tight["items"] == [] and tight["omitted"] >= 1


def test_expand_adds_linked_documents_with_the_edge(root: Path) -> None:
    plain = search_json(root, "KABSD-TSK-0001", "-n", "1")
    assert [h["doc_id"] for h in plain] == ["KABSD-TSK-0001"]
    expanded = search_json(root, "KABSD-TSK-0001", "-n", "1", "--expand")
    linked = {h["doc_id"]: h["via"] for h in expanded[1:]}
    assert "KABSD-TSK-0002" in linked
    assert {"kind": "blocks", "from": "KABSD-TSK-0001"} in linked["KABSD-TSK-0002"]
    human = invoke("search", "KABSD-TSK-0001", "-n", "1", "--expand", "--root", str(root))
    assert "linked: blocks of KABSD-TSK-0001" in human.stdout


def test_force_searches_vectors_of_another_space(root: Path) -> None:
    on = {"LORE_EMBED__ENABLED": "true"}
    assert invoke("index", str(root), "-q", env=on).exit_code == 0
    other = on | {"LORE_EMBED__PRIMARY__QUERY_PREFIX": "query: "}
    refused = invoke("search", "sidecar", "--root", str(root), "--mode", "vector", env=other)
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = invoke("search", "sidecar", "--root", str(root), "--mode", "vector", "--force",
                    "--json", "--explain", env=other)
    assert forced.exit_code == 0, forced.output
    hits = json.loads(forced.stdout)["hits"]
    assert hits and all("vector" in h["explain"]["legs"] for h in hits)


MARKDOWN_NOTE = (
    "# Wiki notes\n\nThe **sidecar** lives in `vectors.idx`, see [[store-notes|the store]] "
    "and [the docs](https://example.com/x) for the sidecar.\n\n```python\nsidecar = 1\n```\n")


def test_human_output_fits_the_width_and_strips_markdown(root: Path) -> None:
    (root / "notes").mkdir()
    (root / "notes" / ("a-very-long-file-name-" * 6 + ".md")).write_text(MARKDOWN_NOTE)
    invoke("index", str(root), "-q")
    result = invoke("search", "sidecar", "--root", str(root), env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 60
    text = " ".join(" ".join(lines).split())
    assert "**" not in text and "[[" not in text and "](" not in text and "```" not in text
    assert "«sidecar»" in text and "the store" in text and "store-notes" not in text
    title = next(line for line in lines if "Wiki notes" in line)
    assert "a-very-long-file-name" not in title     # no id: the path is not printed twice
    wide = invoke("search", "sidecar", "--root", str(root), env={"COLUMNS": "500"}).stdout
    assert max(len(line) for line in wide.splitlines()) > 60


FOLDED_BODY = ("# Decision\n\nCopies of one decision fold into a single hit; the reader "
               "still learns every path where the same words live, and which id each has.\n")


def test_also_at_names_the_ids_of_folded_copies(root: Path) -> None:
    copies = {"decisions/ADR-0017_fold.md": "ADR-0017", "decisions/ADR-0021_fold.md": "ADR-0021",
              "notes/fold.md": ""}
    for rel in copies:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("---\ntitle: Fold copies\n---\n\n" + FOLDED_BODY)
    invoke("index", str(root), "-q")
    result = invoke("search", "fold copies", "--root", str(root), env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    also = next(line for line in result.stdout.splitlines() if "also at:" in line)
    shown = search_json(root, "fold copies")[0]
    assert len(shown["also_at"]) == 2 and all(p in copies for p in shown["also_at"])
    for path in shown["also_at"]:   # JSON keeps paths; the text gives an id where there is one
        label = f"{copies[path]} ({path})" if copies[path] else path
        assert label in also.split("also at: ")[1].split(", ")


def test_piped_output_defaults_to_100_columns(root: Path) -> None:
    (root / ("x" * 150 + ".md")).write_text("# Long\n\n" + "sidecar words " * 40)
    invoke("index", str(root), "-q")
    out = CliRunner().invoke(main, ["search", "sidecar", "--root", str(root)],
                             env=ENV | {"COLUMNS": ""}).stdout
    assert max(len(line) for line in out.splitlines()) == 100


def test_weak_worklog_snippet_gives_way_to_the_description(root: Path) -> None:
    (root / "tasks" / "KABSD-TSK-0003_log.md").write_text(
        "---\nid: KABSD-TSK-0003\ntitle: Logged task\ntype: Task\n---\n\n# Context\n\n"
        + "Rotate the signing keys of the release pipeline every quarter. " * 20
        + "\n\n# Worklog\n\n2026-01-05 10:00 [agent=codex] zebra moved the thing forward.\n")
    invoke("index", str(root), "-q", env={"LORE_CHUNKING__WHOLE_DOCUMENT_TOKENS": "10"})
    hits = search_json(root, "zebra", "--chunks")
    assert hits[0]["chunk"]["kind"] == "worklog"
    out = invoke("search", "zebra", "--root", str(root)).stdout
    assert "«zebra»" in out            # a real match in the worklog: the worklog line stays
    view = _weak_view(root, hits[0])
    assert view.description.startswith("Rotate the signing keys")


def _weak_view(root: Path, hit_json: dict[str, Any]) -> Any:
    """The view ``lore search`` builds for a worklog hit without highlights (a vector match)."""
    from lore.cli._search_answer import _view
    from lore.search.hits import ChunkInfo, Hit

    chunk = hit_json["chunk"]
    hit = Hit(path=hit_json["path"], doc_id=hit_json["doc_id"], title=hit_json["title"],
              score=0.1, snippet=hit_json["snippet"], highlights=(),
              metadata=hit_json["metadata"], doctype=hit_json["doctype"],
              chunk=ChunkInfo(chunk["ordinal"], tuple(chunk["heading_path"]), chunk["kind"]))
    from lore.index import open_index

    with open_index(root, create=False) as idx:
        return _view(idx, hit)


def test_deleted_file_is_flagged_stale_in_search(root: Path) -> None:
    (root / "tasks" / "KABSD-TSK-0002_store.md").unlink()
    hits = {h["path"]: h["stale"] for h in search_json(root, "sidecar cache")}
    assert hits["tasks/KABSD-TSK-0002_store.md"] is True
    assert hits["tasks/KABSD-TSK-0001_cache.md"] is False
    out = invoke("search", "sidecar", "--root", str(root)).stdout
    assert "deleted since the last `lore index`" in out


def test_terminal_escapes_in_titles_never_reach_the_terminal(root: Path) -> None:
    osc52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
    (root / "evil.md").write_text(f"---\ntitle: Innocent{osc52} \x1b[2J\x9b1mtitle\n---\n\n"
                                  f"# Heading{osc52}\n\nsidecar text \x1b[31mred\x1b[0m\n")
    invoke("index", str(root), "-q")
    for args in (["search", "sidecar"], ["search", "sidecar", "--context"], ["show", "evil.md"],
                 ["search", "sidecar", "--explain", "--chunks"]):
        out = invoke(*args, "--root", str(root)).output
        assert "Innocent" in out
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out, args
    data = search_json(root, "sidecar")
    assert any(osc52 in h["title"] for h in data)   # JSON keeps the text, escaped as JSON


# --- filters are checked against what is indexed ------------------------------------------

@pytest.mark.parametrize("args", [("--filter", "tpye=Task", "cache"), ("tpye:Task", "cache")])
def test_a_mistyped_filter_key_is_an_error_with_a_suggestion(root: Path,
                                                             args: tuple[str, ...]) -> None:
    result = invoke("search", *args, "--root", str(root))
    assert result.exit_code == 1
    assert "Unknown filter key 'tpye'" in result.output
    assert "did you mean 'type'?" in result.output.lower()
    assert "Known keys:" in result.output and "state" in result.output


@pytest.mark.parametrize("args", [("--filter", "state=Blocked", "cache"),
                                  ("state:Blocked", "cache")])
def test_a_filter_value_nothing_resembles_lists_the_known_values(root: Path,
                                                                args: tuple[str, ...]) -> None:
    result = invoke("search", *args, "--root", str(root))
    assert result.exit_code == 1
    assert "'blocked'" in result.output
    assert "Known values of state: Done, Proposed." in result.output   # as the files write them


@pytest.mark.parametrize(("args", "matched"), [
    (("--filter", "state=Doen"), "'Done'"),                  # one edit, shown as written
    (("state:propsed",), "'Proposed'"),                      # inline, one edit
    (("--filter", "type=tasks"), "'Task'"),                  # the parser's type spelling
    (("type:decision", "--filter", "status=accept"), "'ADR'"),  # ADR, a word part
])
def test_a_near_filter_value_is_matched_with_a_notice(root: Path, args: tuple[str, ...],
                                                      matched: str) -> None:
    envelope = search_envelope(root, "cache", *args)
    expected = {"'Done'": ["KABSD-TSK-0001"], "'Proposed'": ["KABSD-TSK-0002"], "'Task'": ["KABSD-TSK-0001", "KABSD-TSK-0002"],
                "'ADR'": ["ADR-0001"]}[matched]
    assert sorted(h["doc_id"] for h in envelope["hits"]) == expected
    assert any(matched in n and n.startswith("No document has") for n in envelope["notices"])
    text = invoke("search", "cache", *args, "--root", str(root))
    assert text.exit_code == 0 and "matched it to" in text.output


def test_filter_values_compare_case_insensitively(root: Path) -> None:
    hits = search_json(root, "STATE:DONE", "cache")
    assert [h["path"] for h in hits] == ["tasks/KABSD-TSK-0001_cache.md"]


def test_a_colon_word_that_is_no_key_stays_text_and_explain_says_so(root: Path) -> None:
    result = invoke("search", "see", "https://example.org", "cache", "--root", str(root),
                    "--explain")
    assert result.exit_code == 0, result.output
    assert "https:… was searched as text" in result.output


def test_text_shows_copies_relations_and_weak_matches(kano_index: Index) -> None:
    where = ["--root", str(kano_index.root), "--index-dir", str(kano_index.index_dir)]
    copies = invoke("search", "commit message convention allowed scopes", *where)
    assert copies.exit_code == 0 and "also at: " in copies.stdout
    relation = invoke("search", "what blocks KABSD-TSK-0083", "--explain", "-n", "2", *where)
    assert "relation blocked_by: KABSD-TSK-0083 -blocked_by-> KABSD-TSK-0082" in relation.stdout
    nothing = invoke("search", "zzqx flurble", *where)
    assert "No matches for 'zzqx flurble'" in nothing.output
    assert "nearest" not in nothing.output   # no hits are called the nearest there are


def test_a_typo_is_searched_and_said_in_json_and_text(root: Path) -> None:
    data = search_envelope(root, "embeding cahce")    # "embeding" reads as "embed": no typo
    assert data["notices"] == ['Searched "cache" for "cahce".']
    assert data["hits"][0]["path"] == "tasks/KABSD-TSK-0001_cache.md"
    assert data["weak_match"] is False
    text = invoke("search", "embeding cahce", "--root", str(root))
    assert 'Searched "cache" for "cahce".' in text.output


def test_a_pasted_page_that_matches_nothing_is_not_echoed_whole(root: Path) -> None:
    nothing = invoke("search", "zq" * 2500, "--root", str(root))
    assert nothing.exit_code == 0, nothing.output
    assert f"No matches for '{'zq' * 39}z'… (5,000 characters)." in nothing.output
    assert "zq" * 100 not in nothing.output
