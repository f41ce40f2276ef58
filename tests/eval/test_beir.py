"""The BEIR loader: reading a tiny generated set, streaming, subsetting, and its errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lore.eval.beir import (
    CorpusDoc,
    DatasetError,
    iter_corpus,
    limit_corpus,
    load_qrels,
    load_queries,
    relevant_ids,
    sample_qrels,
    slice_dataset,
)


def test_reads_gzip_corpus_in_file_order(tiny_beir: Path) -> None:
    with gzip.open(tiny_beir / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        raw = [json.loads(line) for line in fh]
    docs = list(iter_corpus(tiny_beir))
    assert [d.id for d in docs] == [r["_id"] for r in raw]
    assert docs[0] == CorpusDoc(id=raw[0]["_id"], title=raw[0]["title"], text=raw[0]["text"])
    untitled = [r["_id"] for r in raw if "title" not in r]
    assert untitled and all(d.title == "" for d in docs if d.id in untitled)


def test_iter_corpus_is_lazy(tmp_path: Path) -> None:
    # A malformed line late in the file is only reached when the stream gets there.
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\nnot json\n')
    stream = iter_corpus(tmp_path)
    assert next(stream).id == "a"
    with pytest.raises(DatasetError, match=r"corpus.jsonl:2: not valid JSON"):
        next(stream)


def test_plain_queries_and_qrels(tiny_beir: Path) -> None:
    queries = load_queries(tiny_beir)
    assert queries["q1"] == "zebras savannah"
    qrels = load_qrels(tiny_beir, "test")
    assert qrels["q2"] == {"ADR-0001": 2}
    assert qrels["q6"] == {"7": 0}  # grade 0 is kept: judged, not relevant
    assert "q5" not in qrels
    assert load_qrels(tiny_beir, "train") == {"q5": {"7": 1}}


def test_qrels_without_header_and_with_spaces(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "dev.tsv").write_text("1 d1 1\n1\td2\t0\n\n2 d3 2\n")
    assert load_qrels(tmp_path, "dev") == {"1": {"d1": 1, "d2": 0}, "2": {"d3": 2}}


def test_relevant_ids_ignore_grade_zero(tiny_beir: Path) -> None:
    ids = relevant_ids(load_qrels(tiny_beir, "test"))
    assert ids == {"101", "ADR-0001", "doc/5", "8"}


def test_limit_corpus_prefers_relevant_docs() -> None:
    docs = [CorpusDoc(str(i), "", "t") for i in range(10)]
    kept = [d.id for d in limit_corpus(iter(docs), {"7", "9"}, 4)]
    assert kept == ["0", "1", "7", "9"]
    # more relevant ids than room: only relevant ones, capped
    assert [d.id for d in limit_corpus(iter(docs), {"2", "5", "8"}, 2)] == ["2", "5"]


def test_sample_qrels_keeps_queries_whose_relevant_docs_fit() -> None:
    qrels = {"a": {"1": 1, "2": 1}, "b": {"3": 1, "4": 1}, "c": {"2": 1}, "d": {"9": 0},
             "e": {"5": 1}}
    # a takes 2 of 3; b would need 4; c adds nothing new; d has nothing relevant; e fits.
    assert list(sample_qrels(qrels, 3)) == ["a", "c", "e"]
    assert sample_qrels(qrels, 0) == {}


def test_slice_dataset_leaves_room_for_distractors(tiny_beir: Path) -> None:
    qrels, docs = slice_dataset(tiny_beir, load_qrels(tiny_beir), 4)
    kept = [d.id for d in docs]
    relevant = relevant_ids(qrels)
    assert len(kept) == 4 and len(relevant) <= 2
    assert relevant <= set(kept)
    assert all(any(g > 0 for g in judged.values()) for judged in qrels.values())


def test_missing_corpus_names_the_layout(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no corpus.jsonl or corpus.jsonl.gz"):
        list(iter_corpus(tmp_path))
    with pytest.raises(DatasetError, match="is not a directory"):
        load_queries(tmp_path / "absent")


def test_missing_split_lists_present_splits(tiny_beir: Path) -> None:
    with pytest.raises(DatasetError, match=r"split 'dev'.*splits present: test, train"):
        load_qrels(tiny_beir, "dev")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"_id": "q1"}', r"queries.jsonl:2: missing key\(s\) text"),
        ("[1, 2]", r"queries.jsonl:2: expected a JSON object"),
        ('{"_id": "q0", "text": "again"}', r"queries.jsonl:2: query id 'q0' appears twice"),
    ],
)
def test_malformed_query_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "queries.jsonl").write_text('{"_id": "q0", "text": "ok"}\n' + line + "\n")
    with pytest.raises(DatasetError, match=message):
        load_queries(tmp_path)


def test_malformed_qrels_lines_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    path = tmp_path / "qrels" / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\n")
    with pytest.raises(DatasetError, match=r"test.tsv:2: expected 3 columns"):
        load_qrels(tmp_path)
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    with pytest.raises(DatasetError, match=r"test.tsv:2: score 'high' is not a number"):
        load_qrels(tmp_path)


def test_unreadable_gzip_is_a_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl.gz").write_bytes(b"this is not gzip")
    with pytest.raises(DatasetError, match="cannot read"):
        list(iter_corpus(tmp_path))
