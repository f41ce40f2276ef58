"""Per-class nDCG@10 of lore on the backlog development set, against plain BM25.

The questions (``bench/backlog/questions.jsonl``) and their graded judgements
(``bench/backlog/qrels.tsv``, paths relative to the corpus root) were written
by reading the kano backlog; ``bench/backlog/README.md`` says how. This script
extracts the corpus (or uses ``--root``), indexes it with lore (embeddings come
from ``LORE_HOME``'s model and cache: the first run embeds, later runs are warm),
then runs every question through lore hybrid, lore keyword and a plain stemmed
BM25 over whole files (bm25s + PyStemmer, English stop words) given the same
front-matter filters, and prints nDCG@10 per class and overall.

One piece of content counts once: files whose title and body are identical
(after collapsing whitespace, front matter aside) form one judged unit, a
ranking gains from a unit only the first time it shows it, and a lore hit
that lists copies in ``also_at`` stands for all of them (scored by its best
unseen copy). The ideal ranking holds each unit once.

Four question sets share the corpus: set ``a`` (``questions.jsonl``, the
development set every backlog setting is chosen on), set ``b``
(``questions-b.jsonl``, written later by reading the files only, to check that
what was tuned on ``a`` generalizes) and set ``c`` (``questions-c.jsonl``,
written after the fixes set ``b`` led to, to check those in turn) and set
``d`` (``questions-d.jsonl``, written by someone who had not read lore's search
code, and measured once before any change made for it). ``--set all`` indexes
once and prints a table for each.

    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/backlog_eval.py
    ... --root /tmp/kano/kano-backlog --json out.json --show-misses semantic
    ... --set all --systems hybrid --show-misses graph,exact
    ... --set all --systems hybrid,keyword --store pgserver   # on a private PostgreSQL
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from _shared import extract, lore_settings, pg_server

from lore.eval.metrics import ndcg_at_k
from lore.index import open_index

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[1] / "shared" / "corpora" / "kano-backlog.tar.gz"
CLASSES = ("exact", "keyword", "semantic", "decision", "filtered", "graph")
K = 10
SETS = {"a": ("questions.jsonl", "qrels.tsv"), "b": ("questions-b.jsonl", "qrels-b.tsv"),
        "c": ("questions-c.jsonl", "qrels-c.tsv"), "d": ("questions-d.jsonl", "qrels-d.tsv")}

Ranking = list[list[str]]  # each hit: the paths it stands for, best first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the kano-backlog tarball (default: ../shared/corpora)")
    parser.add_argument("--root", type=Path, help="an extracted corpus to index in place")
    parser.add_argument("--set", dest="which", choices=[*SETS, "all"], default="a",
                        help="question set: a (development), b (generalization check), "
                             "c (a check of the fixes made on b), d (written blind), all")
    parser.add_argument("--questions", type=Path,
                        help="a questions file of your own (overrides --set; needs --qrels)")
    parser.add_argument("--qrels", type=Path, help="the judgements for --questions")
    parser.add_argument("--systems", default="hybrid,keyword,bm25",
                        help="comma-separated: hybrid, keyword, vector, bm25")
    parser.add_argument("--json", type=Path, help="also write per-question scores here")
    parser.add_argument("--show-misses", default="",
                        help="print rankings of questions below 1.0 in these classes")
    parser.add_argument("--store", default="",
                        help="lore's store: a postgresql:// URL, 'pgserver' (a private "
                             "PostgreSQL started for this run), or '' (the local index)")
    args = parser.parse_args()

    question_sets = chosen_sets(parser, args)
    questions = [q for _, qs, _ in question_sets for q in qs]
    qrels = {qid: judged for _, _, path in question_sets
             for qid, judged in load_qrels(path).items()}
    with tempfile.TemporaryDirectory(prefix="lore-backlog-") as scratch:
        root = args.root or extract_corpus(args.corpus, Path(scratch))
        store = (pg_server(None, Path(scratch)) if args.store == "pgserver" else args.store)
        units = content_units(root)
        systems = args.systems.split(",")
        rankings: dict[str, dict[str, Ranking]] = {}
        for system in systems:
            run = bm25_runner(root) if system == "bm25" else lore_runner(root, system, store)
            rankings[system] = {q["id"]: run(q["query"], q.get("filters") or {})
                                for q in questions}
    scores = {system: {q["id"]: unit_ndcg(rankings[system][q["id"]], qrels.get(q["id"], {}),
                                          units)
                       for q in questions} for system in systems}
    for name, subset, _ in question_sets:
        if len(question_sets) > 1:
            print(f"\nset {name}")
        print_table(subset, scores, systems)
    misses = set(filter(None, args.show_misses.split(",")))
    for q in questions:
        if q["class"] in misses and scores[systems[0]][q["id"]] < 1.0:
            print(f"\n{q['id']} [{q['class']}] {q['query']!r} {q.get('filters') or ''}")
            for system in systems:
                print(f"  {system}: {scores[system][q['id']]:.3f}")
                for rank, paths in enumerate(rankings[system][q["id"]][:5], 1):
                    grade = max(qrels.get(q["id"], {}).get(p, 0) for p in paths)
                    print(f"    {rank:2d} [{grade}] {paths[0]}")
    if args.json:
        args.json.write_text(json.dumps({"scores": scores, "rankings": rankings}, indent=1))
    return 0


def chosen_sets(parser: argparse.ArgumentParser, args: argparse.Namespace
                ) -> list[tuple[str, list[dict[str, Any]], Path]]:
    """(name, questions, qrels file) of each set the flags ask for; ids must not repeat."""
    if args.questions is not None or args.qrels is not None:
        if args.questions is None or args.qrels is None:
            parser.error("--questions and --qrels go together")
        files = [(args.questions.name, args.questions, args.qrels)]
    else:
        names = list(SETS) if args.which == "all" else [args.which]
        files = [(n, HERE / "backlog" / SETS[n][0], HERE / "backlog" / SETS[n][1])
                 for n in names]
    chosen = [(name, [json.loads(line) for line in path.read_text().splitlines() if line], qrels)
              for name, path, qrels in files]
    ids = [q["id"] for _, qs, _ in chosen for q in qs]
    if len(ids) != len(set(ids)):
        parser.error("question ids repeat across the chosen sets")
    return chosen


def extract_corpus(tarball: Path, into: Path) -> Path:
    """Unpack the corpus tarball and return its root folder."""
    if not tarball.exists():
        raise SystemExit(f"{tarball} is absent: pass --corpus or --root")
    extract(tarball, into)
    return into / "kano-backlog"


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {path: grade} from a TSV with a header line."""
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for line in path.read_text().splitlines()[1:]:
        qid, doc, grade = line.split("\t")
        judged[qid][doc] = int(grade)
    return judged


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter, body) of a Markdown file; unreadable front matter is empty."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            try:
                meta = yaml.safe_load(text[3:end])
            except yaml.YAMLError:
                meta = None
            return (meta if isinstance(meta, dict) else {}), text[end + 4:]
    return {}, text


def markdown_files(root: Path) -> dict[str, str]:
    """Root-relative posix path -> text of every Markdown file outside ``.lore``."""
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(root.rglob("*.md")) if ".lore" not in p.relative_to(root).parts}


def content_units(root: Path) -> dict[str, str]:
    """path -> a key shared by files with the same title and body (whitespace collapsed)."""
    units = {}
    for path, text in markdown_files(root).items():
        meta, body = split_front_matter(text)
        norm = " ".join(f"{meta.get('title', '')} {body}".split())
        units[path] = hashlib.sha1(norm.encode()).hexdigest()
    return units


def unit_ndcg(ranking: Ranking, judged: Mapping[str, int], units: Mapping[str, str]) -> float:
    """nDCG@10 where each content unit gains once (see the module docstring)."""
    by_unit: dict[str, int] = {}
    for path, grade in judged.items():
        unit = units.get(path, path)
        by_unit[unit] = max(by_unit.get(unit, 0), grade)
    seen: set[str] = set()
    flat: list[str] = []
    for rank, paths in enumerate(ranking):
        fresh = [units.get(p, p) for p in paths if units.get(p, p) not in seen]
        best = max(fresh, key=lambda u: by_unit.get(u, 0), default=None)
        seen.update(fresh)
        flat.append(best if best is not None else f"#seen{rank}")
    return ndcg_at_k(flat, by_unit, K)


def lore_runner(root: Path, mode: str,
                store: str = "") -> Callable[[str, dict[str, list[str]]], Ranking]:
    """A function running one question through lore in ``mode`` (the index is synced once),
    on ``store`` (a PostgreSQL URL; empty: the local index)."""
    settings = lore_settings(root, {"index.store": store} if store else None)
    index = open_index(root, settings=settings)
    index.sync()

    def run(query: str, filters: dict[str, list[str]]) -> Ranking:
        hits = index.search(query, limit=K, mode=mode, filters=filters or None)
        return [[hit.path, *getattr(hit, "also_at", ())] for hit in hits]
    return run


def bm25_runner(root: Path) -> Callable[[str, dict[str, list[str]]], Ranking]:
    """Plain stemmed BM25 over whole files; filters match front matter case-insensitively."""
    import bm25s
    import Stemmer

    files = markdown_files(root)
    paths = list(files)
    metas = [split_front_matter(files[p])[0] for p in paths]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([files[p] for p in paths], stopwords="en", stemmer=stemmer,
                                   show_progress=False), show_progress=False)

    def run(query: str, filters: dict[str, list[str]]) -> Ranking:
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False,
                                show_progress=False)[0]
        scores = retriever.get_scores(tokens)
        allowed = [i for i, meta in enumerate(metas) if _passes(meta, filters)]
        ranked = sorted((i for i in allowed if scores[i] > 0), key=lambda i: -scores[i])
        return [[paths[i]] for i in ranked[:K]]
    return run


def _passes(meta: Mapping[str, Any], filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether front matter ``meta`` passes every filter (any listed value per key)."""
    for key, accepted in filters.items():
        value = meta.get(key)
        values = value if isinstance(value, list) else [value]
        wanted = {a.lower() for a in accepted}
        if not any(v is not None and str(v).lower() in wanted for v in values):
            return False
    return True


def print_table(questions: Sequence[Mapping[str, Any]],
                scores: Mapping[str, Mapping[str, float]], systems: Sequence[str]) -> None:
    """nDCG@10 per class (and overall) for every system, one column each."""
    print(f"{'class':10} {'n':>3} " + " ".join(f"{s:>9}" for s in systems))
    for cls in (*CLASSES, "overall"):
        ids = [q["id"] for q in questions if cls in (q["class"], "overall")]
        if not ids:
            continue
        means = [sum(scores[s][i] for i in ids) / len(ids) for s in systems]
        print(f"{cls:10} {len(ids):>3} " + " ".join(f"{m:9.3f}" for m in means))


if __name__ == "__main__":
    sys.exit(main())
