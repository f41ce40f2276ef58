"""The evaluation runner: corpus files, id mapping, and end to end on a tiny BEIR set."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from lore.errors import QueryError
from lore.eval.beir import CorpusDoc, DatasetError, iter_corpus, load_qrels
from lore.eval.runner import file_name, markdown_for, run_eval, write_corpus
from lore.settings import EmbedSettings, ProviderSettings, Settings


def _front_matter(text: str) -> dict[str, str]:
    head, _, _ = text.removeprefix("---\n").partition("---\n")
    return yaml.safe_load(head)


def test_file_names_are_prefixed_and_unique() -> None:
    assert file_name("4983") == "beir-4983.md"
    tricky = ["a/b", "a:b", "A1", "a1", "MED-10", "../x", " "]
    names = [file_name(i) for i in tricky]
    assert len(set(names)) == len(tricky)
    for beir_id, name in zip(tricky, names):
        assert name.startswith("beir-") and name.endswith(".md")
        assert "/" not in name and name == name.lower()
        # the stem never equals the id, so a one-word query never hits lore's stem lookup
        assert name.removesuffix(".md") != beir_id


def test_markdown_keeps_the_id_out_of_lores_id_field() -> None:
    doc = CorpusDoc(id="ADR-0001", title='Colons: "quotes" and # hashes', text="Body text.")
    text = markdown_for(doc)
    meta = _front_matter(text)
    assert meta == {"beir_id": "ADR-0001", "title": doc.title}
    assert text.endswith("\n\nBody text.\n")
    assert "title" not in _front_matter(markdown_for(dataclasses.replace(doc, title="")))


def test_lore_parses_the_written_file_as_intended(tmp_path: Path) -> None:
    from lore.documents import SourceFile, load_document

    doc = CorpusDoc(id="42", title="Tidal turbines", text="Blades turn in the current.")
    data = markdown_for(doc).encode()
    source = SourceFile(path=tmp_path / file_name(doc.id), relpath=file_name(doc.id),
                        size=len(data), mtime_ns=0)
    parsed = load_document(tmp_path, source, data)
    assert parsed.title == doc.title
    assert parsed.metadata["beir_id"] == "42"
    assert parsed.doc_id != "42"
    assert doc.text in parsed.body


def test_write_corpus_rewrites_only_changed_files_and_drops_stale(tmp_path: Path) -> None:
    docs = [CorpusDoc(str(i), f"T{i}", f"text {i}") for i in range(4)]
    first = write_corpus(iter(docs), tmp_path)
    assert first.written == 4
    assert sorted(first.path_to_id.values()) == ["0", "1", "2", "3"]
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}

    again = write_corpus(iter(docs), tmp_path)
    assert again.written == 0
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == mtimes

    (tmp_path / "notes.md").write_text("not ours")  # a file the runner did not write stays
    changed = [docs[0], dataclasses.replace(docs[1], text="new"), docs[2]]
    third = write_corpus(iter(changed), tmp_path)
    assert third.written == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [file_name("0"), file_name("1"), file_name("2"), "notes.md"])


def test_write_corpus_refuses_duplicate_ids(tmp_path: Path) -> None:
    docs = [CorpusDoc("7", "", "a"), CorpusDoc("7", "", "b")]
    with pytest.raises(DatasetError, match="'7' appears twice"):
        write_corpus(iter(docs), tmp_path)


def _trec_rows(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


def test_keyword_end_to_end_is_perfect_on_the_tiny_set(tiny_beir: Path, tmp_path: Path) -> None:
    """Each judged query's words occur only in its relevant doc, so every metric is 1.

    Default settings name an ONNX model that is not installed here: the run
    only works because keyword-only evaluation indexes without embeddings.
    """
    report = run_eval(tiny_beir, modes=["keyword"], settings=Settings(), work_dir=tmp_path / "w")
    qrels = load_qrels(tiny_beir)
    judged = {q for q, grades in qrels.items() if any(g > 0 for g in grades.values())}
    assert report.documents == len(list(iter_corpus(tiny_beir)))
    assert report.files_written == report.documents
    (result,) = report.results
    assert set(result.scores.per_query) == judged  # q6 (grade 0 only) and q5 (train) left out
    assert result.scores.mean == {"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}
    assert result.latency.p50_ms > 0

    assert result.run_file == tmp_path / "w" / "runs" / "test.keyword.trec"
    rows = _trec_rows(result.run_file)
    assert {r[0] for r in rows} == judged
    top = {r[0]: r[2] for r in rows if r[3] == "1"}
    assert top == {q: next(d for d, g in qrels[q].items() if g > 0) for q in judged}
    # "ADR-0001 zebras": the ADR-shaped BEIR id must not pull that document in
    assert all(r[2] != "ADR-0001" for r in rows if r[0] == "q7")


def test_rerun_over_the_same_work_dir_is_incremental(tiny_beir: Path, tmp_path: Path) -> None:
    first = run_eval(tiny_beir, modes=["keyword"], settings=Settings(), work_dir=tmp_path)
    again = run_eval(tiny_beir, modes=["keyword"], settings=Settings(), work_dir=tmp_path)
    assert again.files_written == 0
    assert again.results[0].scores.mean == first.results[0].scores.mean


def test_default_work_dir_is_temporary_and_progress_is_reported(tiny_beir: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    report = run_eval(tiny_beir, modes=["keyword"], settings=Settings(),
                      progress=lambda *call: calls.append(call))
    assert ("search:keyword", 5, 5) in calls
    assert any(stage == "index" for stage, _, _ in calls)
    assert report.work_dir is None
    assert report.results[0].run_file is None
    assert report.to_dict()["modes"]["keyword"]["ndcg@10"] == 1.0


def test_max_docs_scores_only_queries_whose_docs_were_kept(tiny_beir: Path,
                                                          tmp_path: Path) -> None:
    report = run_eval(tiny_beir, modes=["keyword"], settings=Settings(), work_dir=tmp_path,
                      max_docs=2)
    assert report.documents == 2
    kept = {p.name for p in (tmp_path / "corpus").iterdir()}
    qrels = load_qrels(tiny_beir)
    scored = set(report.results[0].scores.per_query)
    assert scored and scored < set(qrels)
    # every scored query's relevant documents are in the slice, and one slot is a distractor
    needed = {file_name(d) for q in scored for d, g in qrels[q].items() if g > 0}
    assert needed < kept


def test_several_modes_write_one_run_file_each(tiny_beir: Path, tmp_path: Path) -> None:
    hashing = ProviderSettings(provider="hashing", dimensions=64)
    settings = Settings(embed=EmbedSettings(primary=hashing))
    run_file = tmp_path / "out" / "tiny.trec"
    report = run_eval(tiny_beir, modes=["keyword", "vector", "hybrid"], settings=settings,
                      run_file=run_file)
    assert [r.mode for r in report.results] == ["keyword", "vector", "hybrid"]
    for result in report.results:
        # query words occur only in the relevant doc; the hashing embedder embeds words
        assert result.scores.mean["ndcg@10"] == 1.0
        assert result.run_file == tmp_path / "out" / f"tiny.{result.mode}.trec"
        assert {r[5] for r in _trec_rows(result.run_file)} == {f"lore-{result.mode}"}


def test_unknown_mode_and_mismatched_files_are_refused(tiny_beir: Path) -> None:
    with pytest.raises(QueryError, match=r"\['semantic'\] not available"):
        run_eval(tiny_beir, modes=["semantic"], settings=Settings())
    (tiny_beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq99\t101\t1\n")
    with pytest.raises(DatasetError, match=r"not in queries.jsonl \(first: 'q99'\)"):
        run_eval(tiny_beir, modes=["keyword"], settings=Settings())



def test_queries_are_embedded_with_the_cache_off_in_every_mode(tiny_beir: Path) -> None:
    # The cache is on in the settings: the sync may fill it, the timed searches may not,
    # or a later mode (and a later run) would time cache look-ups instead of embedding.
    from lore.embed.cache import EmbeddingCache
    from lore.embed.hashing import HashingEmbedder
    from lore.eval.beir import load_queries

    settings = Settings(embed=EmbedSettings(primary=ProviderSettings(provider="hashing",
                                                                     dimensions=64)))
    run_eval(tiny_beir, modes=["vector", "hybrid"], settings=settings)
    space = HashingEmbedder(64).space.id
    cache = EmbeddingCache()
    try:
        assert cache.stats().entries[space] > 0  # the sync did use it
        queries = list(load_queries(tiny_beir).values())
        assert cache.get_many(space, "query", queries) == [None] * len(queries)
    finally:
        cache.close()
