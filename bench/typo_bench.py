"""Typo tolerance (``lore.search.typos``): nDCG@10 of clean questions, of the same
questions with one typo, before and after the correction, and what it costs.

Each question gets one seeded typo (a deleted, inserted, substituted or two
swapped characters, chosen by the question's id) in its rarest content word
(the indexed word of four or more letters that the fewest documents hold;
ties: the longer). Questions: every backlog set (``backlog_eval.SETS``; every class but
``exact``, whose question is an id) on the kano corpus, and SciFact's *train*
claims (``qrels/train.tsv``) on a SciFact work dir as ``lore eval`` leaves it
(``corpus/`` and ``index/``). Columns, keyword and hybrid:

- ``clean``: the question as written (with the correction on, as shipped);
- ``typo before`` / ``typo after``: the typo question, correction off / on;
- ``corrected text embedded``: hybrid typo after, the vector leg embedding
  the corrected words instead of the typed ones (``typos.EMBED_CORRECTED``
  flipped; the shipped choice is the ``typo after`` column).

False corrections: every correction made on a clean question is listed and
counted, split by ``TYPOS_IN_QUESTIONS``, the words of the clean questions
that are themselves misspelt (judged by reading each question); a correction
of any other word is a false one.

Neutrality: every clean question is also run with the correction off; the
rankings must be identical except for questions with an unmatched word (a word
no document holds), which are counted and scored both ways. Timings (warm
process and index, one run, the machine's load printed): the correction step
of a clean question (one token probe) beside its keyword search, the
vocabulary index's build (once per catalog state), and a typo's lookup.

    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/typo_bench.py \\
        --kano /tmp/kano/kano-backlog --scifact-work /tmp/sf-copy
    ... --max-queries 50        # a quick subset while iterating
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from _shared import SCIFACT, lore_settings
from backlog_eval import SETS, Ranking, chosen_sets, content_units, load_qrels, unit_ndcg

from lore.eval.beir import iter_corpus, load_queries
from lore.eval.beir import load_qrels as load_beir_qrels
from lore.eval.metrics import ndcg_at_k
from lore.eval.runner import file_name
from lore.index import Index, open_index
from lore.search import typos
from lore.search.fts import STOPWORDS
from lore.search.query import parse_query
from lore.search.typo_index import TermIndex
from lore.types import SearchMode

K = 10
MODES: tuple[SearchMode, ...] = ("keyword", "hybrid")
KINDS = ("deletion", "insertion", "substitution", "transposition")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# The misspelt words of the clean questions (lower-cased), judged by reading every clean
# question that has a word no document holds: kano's sets a-d have none; SciFact's train
# claims have these (the bench's other unmatched words are real words, names and codes).
TYPOS_IN_QUESTIONS = frozenset({
    "ateriosus", "assosciated", "bacteriophagaes", "baise", "coatmer", "coavtivator",
    "florescent", "indictivate", "microenviroment", "osteoparthritis", "reatment",
    "reational", "remolding", "reponse", "supresses", "suppresss", "transgultaminase"})
NOTICE = re.compile(r'^Searched "(.+)" for "(.+)"\.$')


@dataclass(frozen=True)
class Question:
    """One question with its typo variant and how to score a ranking of it."""

    qid: str
    text: str
    typo: str
    filters: dict[str, list[str]]
    score: Callable[[Ranking], float]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kano", type=Path, help="an extracted kano-backlog (indexed in place)")
    parser.add_argument("--scifact-work", type=Path,
                        help="a SciFact work dir with corpus/ and index/ (a copy of one)")
    parser.add_argument("--scifact", type=Path, default=SCIFACT, help="the BEIR data set")
    parser.add_argument("--max-queries", type=int, default=0, help="first N per corpus (0: all)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    if args.kano:
        with opened(args.kano, None) as index:
            report(f"backlog sets {'+'.join(SETS)} (non-exact classes)",
                   with_typos(index, backlog_questions(args.kano), args.max_queries,
                              args.seed), index)
    if args.scifact_work:
        root, index_dir = args.scifact_work / "corpus", args.scifact_work / "index"
        with opened(root, index_dir) as index:
            report("SciFact train claims",
                   with_typos(index, scifact_questions(args.scifact, root), args.max_queries,
                              args.seed), index)
    if not (args.kano or args.scifact_work):
        parser.error("give --kano and/or --scifact-work")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


def opened(root: Path, index_dir: Path | None, *, correct: bool = True) -> Index:
    """The folder's index with the correction on (or off), synced (a no-op on an indexed
    copy); settings as the CLI loads them, ``search.typo_correction`` fixed."""
    settings = lore_settings(root, {"search.typo_correction": correct})
    index = open_index(root, settings=settings, index_dir=index_dir)
    index.sync()
    return index


def backlog_questions(root: Path) -> list[Question]:
    """Every backlog set without the id class, each scored as ``backlog_eval`` scores it."""
    parser = argparse.ArgumentParser()
    sets = chosen_sets(parser, argparse.Namespace(questions=None, qrels=None, which="all"))
    units = content_units(root)
    qrels = {qid: judged for name in SETS
             for qid, judged in load_qrels(Path(__file__).parent / "backlog"
                                           / SETS[name][1]).items()}
    out = []
    for _, subset, _ in sets:
        for q in subset:
            if q["class"] == "exact":
                continue
            judged = qrels.get(q["id"], {})
            out.append(Question(q["id"], q["query"], "", q.get("filters") or {},
                                lambda r, j=judged: unit_ndcg(r, j, units)))
    return out


def scifact_questions(dataset: Path, root: Path) -> list[Question]:
    """SciFact's train claims with a judged document, scored by BEIR id."""
    queries = load_queries(dataset)
    qrels = load_beir_qrels(dataset, "train")
    to_id = {file_name(doc.id): doc.id for doc in iter_corpus(dataset)}
    out = []
    for qid, judged in qrels.items():
        if qid in queries and any(g > 0 for g in judged.values()):
            out.append(Question(qid, queries[qid], "", {},
                                lambda r, j=judged: _beir_ndcg(r, j, to_id)))
    return out


def _beir_ndcg(ranking: Ranking, judged: dict[str, int], to_id: dict[str, str]) -> float:
    """nDCG@10 of a ranking of paths (each hit with its copies) by BEIR id, as ``lore eval``."""
    ids: list[str] = []
    for paths in ranking:
        for path in paths:
            beir = to_id.get(Path(path).name)
            if beir is not None and beir not in ids:
                ids.append(beir)
    return ndcg_at_k(ids, judged, K)


def with_typos(index: Index, questions: list[Question], limit: int,
               seed: int) -> list[Question]:
    """The questions (the first ``limit``) with their typo variants, those that have one."""
    store = index._store
    with store.read_snapshot():
        vocabulary = TermIndex.build(store.token_vocabulary()).documents
    out = []
    for q in questions[:limit or None]:
        words = [w for w in parse_query(q.text, ()).terms
                 if w.isalpha() and len(w) >= typos.MIN_LETTERS and w.lower() not in STOPWORDS]
        with store.read_snapshot():
            tokens = store.word_tokens(words)
        held = [(vocabulary[tokens[w]], -len(w), w) for w in words
                if tokens.get(w) in vocabulary]
        if not held:
            continue
        word = min(held)[2]
        rng = random.Random(f"{seed}:{q.qid}")
        out.append(replace(q, typo=_replace_word(q.text, word, one_typo(word, rng))))
    return out


def one_typo(word: str, rng: random.Random) -> str:
    """``word`` with one slip of a random kind at a random place (never unchanged)."""
    while True:
        kind, at = rng.choice(KINDS), rng.randrange(len(word))
        if kind == "deletion":
            typo = word[:at] + word[at + 1:]
        elif kind == "insertion":
            typo = word[:at] + rng.choice(LETTERS) + word[at:]
        elif kind == "substitution":
            typo = word[:at] + rng.choice(LETTERS) + word[at + 1:]
        else:
            at = min(at, len(word) - 2)
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        if typo.lower() != word.lower():
            return typo


def _replace_word(text: str, word: str, typo: str) -> str:
    """``text`` with the first whole occurrence of ``word`` written as ``typo``."""
    words = text.split(" ")
    for i, piece in enumerate(words):
        if piece.strip(".,;:!?()\"'") == word:
            words[i] = piece.replace(word, typo, 1)
            return " ".join(words)
    return text.replace(word, typo, 1)


def ranked(index: Index, text: str, mode: SearchMode, filters: dict[str, list[str]]
           ) -> tuple[Ranking, tuple[str, ...]]:
    """The ranking (each hit with its copies) and the notices of one search."""
    result = index.search(text, limit=K, mode=mode, filters=filters or None)
    return [[h.path, *h.also_at] for h in result], tuple(result.notices)


def report(title: str, questions: list[Question], index: Index) -> None:
    """Run every condition and print the tables for one corpus."""
    before = opened(index.root, index.index_dir, correct=False)
    corrected = sum(1 for q in questions
                    if any(n.startswith("Searched") for n in ranked(index, q.typo, "keyword",
                                                                     q.filters)[1]))
    print(f"\n## {title}: {len(questions)} questions with a typo; the correction fired on "
          f"{corrected}")
    print(f"{'mode':8} {'clean':>7} {'typo before':>12} {'typo after':>11} "
          f"{'corrected text embedded':>24}")
    neutral: dict[str, tuple[int, int, list[float], list[float]]] = {}
    for mode in MODES:
        clean_after = {q.qid: ranked(index, q.text, mode, q.filters) for q in questions}
        clean_before = {q.qid: ranked(before, q.text, mode, q.filters)[0] for q in questions}
        typo_before = [q.score(ranked(before, q.typo, mode, q.filters)[0]) for q in questions]
        typo_after = [q.score(ranked(index, q.typo, mode, q.filters)[0]) for q in questions]
        embedded = "-"
        if mode == "hybrid":
            typos.EMBED_CORRECTED = not typos.EMBED_CORRECTED
            try:
                other = [q.score(ranked(index, q.typo, mode, q.filters)[0]) for q in questions]
                embedded = f"{_mean(other):.4f}"
            finally:
                typos.EMBED_CORRECTED = not typos.EMBED_CORRECTED
        if mode == MODES[0]:
            false_corrections(clean_after)
        clean = [q.score(clean_after[q.qid][0]) for q in questions]
        print(f"{mode:8} {_mean(clean):7.4f} {_mean(typo_before):12.4f} "
              f"{_mean(typo_after):11.4f} {embedded:>24}")
        fired = [q for q in questions if any(n.startswith("Searched")
                                             for n in clean_after[q.qid][1])]
        changed = [q for q in questions if clean_after[q.qid][0] != clean_before[q.qid]]
        flipped = {}
        if mode == "hybrid":
            typos.EMBED_CORRECTED = not typos.EMBED_CORRECTED
            try:
                flipped = {q.qid: q.score(ranked(index, q.text, mode, q.filters)[0])
                           for q in fired}
            finally:
                typos.EMBED_CORRECTED = not typos.EMBED_CORRECTED
        for q in fired:
            said = "; ".join(n for n in clean_after[q.qid][1] if n.startswith("Searched"))
            other = f" ({flipped[q.qid]:.3f} corrected text embedded)" if flipped else ""
            print(f"    clean {q.qid}: {q.score(clean_before[q.qid]):.3f} -> "
                  f"{q.score(clean_after[q.qid][0]):.3f}{other}  {said}")
        if flipped:
            print(f"    mean with the corrected text embedded: {_mean(list(flipped.values())):.4f}")
        neutral[mode] = (len(fired), len([q for q in changed if q not in fired]),
                         [q.score(clean_before[q.qid]) for q in fired],
                         [q.score(clean_after[q.qid][0]) for q in fired])
    print("\nneutrality on the clean questions (rankings with the correction off vs on):")
    for mode, (fired, stray, was, now) in neutral.items():
        print(f"  {mode:8} {fired} with an unmatched word (nDCG@10 {_mean(was):.4f} -> "
              f"{_mean(now):.4f}); rankings changed without one: {stray}")
    timings(index, questions)
    before.close()


def false_corrections(clean: dict[str, tuple[Ranking, tuple[str, ...]]]) -> None:
    """Count (and list) the corrections made on the clean questions: of a misspelt word
    (``TYPOS_IN_QUESTIONS``), and of any other word, a false correction."""
    made = [(qid, m.group(2), m.group(1)) for qid, (_, notices) in clean.items()
            for m in map(NOTICE.match, notices) if m]
    false = [f"{qid} {word}>{to}" for qid, word, to in made
             if word.lower() not in TYPOS_IN_QUESTIONS]
    print(f"corrections on the clean questions: {len(made)}; of misspelt words "
          f"{len(made) - len(false)}; false (of words that are no typo): {len(false)}")
    if false:
        print("    false: " + ", ".join(false))


def timings(index: Index, questions: Sequence[Question]) -> None:
    """The correction's cost: a clean question's probe beside its keyword search, one-shot
    (FTS5) and as a server runs (in-memory keyword copy); the index build; a typo's lookup."""
    store = index._store
    ms = 1000.0
    for path in ("one-shot, FTS5", "server, in-memory copy"):
        if path.startswith("server"):
            index.prepare_keyword_search()
        probe, search = [], []
        for q in questions:
            parsed = parse_query(q.text, ())
            with store.read_snapshot():
                started = time.perf_counter()
                typos.find_corrections(store, parsed)
                probe.append(time.perf_counter() - started)
            started = time.perf_counter()
            index.search(q.text, limit=K, mode="keyword", filters=q.filters or None)
            search.append(time.perf_counter() - started)
        print(f"\ntimings ({path}; warm, one run, under load): a clean question's correction "
              f"step p50 {statistics.median(probe) * ms:.3f} ms = "
              f"{statistics.median(probe) / statistics.median(search):.1%} of its keyword "
              f"search (p50 {statistics.median(search) * ms:.2f} ms)")
    lookup = []
    with store.read_snapshot():
        started = time.perf_counter()
        TermIndex.build(store.token_vocabulary())
        build = time.perf_counter() - started
        typos.find_corrections(store, parse_query(questions[0].typo, ()))   # builds the fact
        for q in questions:        # the vocabulary index is built once, then kept
            parsed = parse_query(q.typo, ())
            started = time.perf_counter()
            typos.find_corrections(store, parsed)
            lookup.append(time.perf_counter() - started)
    print(f"vocabulary index build (once per catalog state) {build * ms:.0f} ms; a typo "
          f"question's correction p50 {statistics.median(lookup) * ms:.2f} ms, max "
          f"{max(lookup) * ms:.2f} ms")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


if __name__ == "__main__":
    raise SystemExit(main())
