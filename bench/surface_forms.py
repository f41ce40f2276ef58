"""Surface forms the keyword leg misses on SciFact train: which query words fail to
match a relevant document as lore's analyzer cuts them, though a near form is there.

For every (claim, relevant document) pair of SciFact's *train* split, each
content word of the claim (not a stopword) is tokenized as the index reads it
(FTS5's ``porter unicode61 remove_diacritics 2``, asked of FTS5 itself), and
one that the relevant document does not hold is put in the first class whose
near form the document holds:

- ``greek``: a Greek letter and its name (``TNF-α`` / ``TNF-alpha``, ``β`` / ``beta``);
- ``glued``: letters and digits written together or apart (``IL6`` / ``IL-6``);
- ``british``: British and American spelling (``tumour`` / ``tumor``,
  ``haemoglobin`` / ``hemoglobin``, ``oestrogen`` / ``estrogen``);
- ``joined``: a compound written as one word or as two (``nonsmokers`` / ``non-smokers``);
- ``stem``: a token sharing the first five or more letters with one of the
  document's where Porter cut them apart (``mice`` vs ``mouse`` is not found);
- ``none``: no near form.

Each class is counted over all pairs and over the *failing* pairs (relevant
document below rank 10 in a TREC run file, e.g. ``lore eval --run-file``),
and its words are listed with their counts.

With ``--write-folded DEST --fold NAME`` it writes instead a copy of the data set
with one surface fold applied to every title, text and claim (both sides, as an
analyzer fold would), to measure the fold's ceiling on the keyword leg with
``lore eval DEST --mode keyword --split train``; the folds: ``greek`` (a Greek
letter outside a Greek word -> its name), ``glued`` (a space where a letter meets
a digit), ``glued-join`` (a hyphen between a letter and a digit removed),
``atory`` (``-atory`` -> ``-ation`` before Porter), ``joined`` (``non-``, ``anti-``,
``pre-`` ... joined to their word). ``docs/decisions/keyword-scoring.md`` holds the table.

    PYTHONPATH=src python bench/surface_forms.py --run /tmp/base.keyword.trec
    PYTHONPATH=src python bench/surface_forms.py --write-folded /tmp/sf-glued --fold glued
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from _shared import SCIFACT

from lore.eval.beir import Qrels, iter_corpus, load_qrels, load_queries
from lore.search.fts import STOPWORDS

TOKENIZER = "porter unicode61 remove_diacritics 2"
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon",
         "ζ": "zeta", "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda",
         "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
         "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega"}
BRITISH = [("our", "or"), ("ae", "e"), ("oe", "e"), ("ise", "ize"), ("isation", "ization"),
           ("tre", "ter"), ("yse", "yze")]
CLASSES = ("greek", "glued", "british", "joined", "stem", "none")


class Tokens:
    """FTS5's tokens of many texts at once (an in-memory table and its vocabulary)."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:")
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")

    def many(self, texts: Iterable[str]) -> list[list[str]]:
        """Each text's tokens in order."""
        self._conn.execute("DELETE FROM t")
        texts = list(texts)
        self._conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)",
                               [(i + 1, text) for i, text in enumerate(texts)])
        out: list[list[tuple[int, str]]] = [[] for _ in texts]
        for term, doc, offset in self._conn.execute("SELECT term, doc, offset FROM v"):
            out[doc - 1].append((offset, term))
        return [[term for _, term in sorted(row)] for row in out]


_WORD = re.compile(r"\S+")


def classify(word: str, doc_text: str, doc_tokens: set[str], tok: Tokens) -> str:
    """The first class of ``word`` (a query word none of whose tokens the document
    holds) whose near form the document holds."""
    low = word.lower()
    doc_low = doc_text.lower()
    if any(ch in GREEK for ch in low) or any(name in low for name in GREEK.values()):
        fold_q = "".join(f" {GREEK[c]} " if c in GREEK else c for c in low)
        fold_d = "".join(f" {GREEK[c]} " if c in GREEK else c for c in doc_low)
        if _held(fold_q, fold_d, tok):
            return "greek"
    if re.search(r"[a-z][0-9]|[0-9][a-z]|[a-z]-[0-9]|[0-9]-[a-z]", low):
        split = re.sub(r"(?<=[a-z])-?(?=[0-9])|(?<=[0-9])-?(?=[a-z])", " ", low)
        doc_split = re.sub(r"(?<=[a-z])-?(?=[0-9])|(?<=[0-9])-?(?=[a-z])", " ", doc_low)
        if _held(split, doc_split, tok):
            return "glued"
    for brit, amer in BRITISH:
        for a, b in ((brit, amer), (amer, brit)):
            if a in low and _held(low.replace(a, b), doc_low, tok):
                return "british"
    if "-" in low.strip("-"):
        if _held(low.replace("-", ""), doc_low, tok):
            return "joined"
    elif _held(low, doc_low.replace("-", ""), tok):
        return "joined"
    (q_tokens,) = tok.many([low])
    for q in q_tokens:
        if len(q) >= 5 and any(d[:5] == q[:5] and d != q for d in doc_tokens):
            return "stem"
    return "none"


def _held(query: str, doc: str, tok: Tokens) -> bool:
    """Whether every content token of ``query`` is among ``doc``'s tokens."""
    q, d = tok.many([query, doc])
    content = [t for t in q if t not in STOPWORDS]
    return bool(content) and set(content) <= set(d)


def failing(run: Path | None, qrels: Qrels) -> set[tuple[str, str]]:
    """(query, relevant doc) pairs whose document is not in the run's top 10."""
    if run is None:
        return set()
    top: dict[str, list[str]] = defaultdict(list)
    for line in run.read_text().splitlines():
        qid, _, doc, rank, *_ = line.split()
        if int(rank) <= 10:
            top[qid].append(doc)
    return {(q, d) for q, rels in qrels.items() for d in rels if d not in top[q]}


_GREEK_ALONE = re.compile(r"(?<![\u0370-\u03ff])[\u03b1-\u03c9](?![\u0370-\u03ff])")
_GLUED = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_LETTER_DIGIT_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=\d)|(?<=\d)-(?=[^\W\d_])")
_ATORY = re.compile(r"(?<=\w\w\w)atory\b", re.IGNORECASE)
_PREFIX = re.compile(r"\b(non|anti|pre|post|co|re|multi|inter|intra|sub|super|auto|trans|pro)-"
                     r"(?=[^\W\d_]{3})", re.IGNORECASE)
FOLDS = {
    "none": lambda text: text,
    "greek": lambda text: _GREEK_ALONE.sub(lambda m: f" {GREEK[m.group()]} ", text),
    "glued": lambda text: _GLUED.sub(" ", text),
    "glued-join": lambda text: _LETTER_DIGIT_HYPHEN.sub("", text),
    "atory": lambda text: _ATORY.sub("ation", text),
    "joined": lambda text: _PREFIX.sub(r"\1", text),
}


def write_folded(dataset: Path, dest: Path, names: list[str]) -> None:
    """A copy of ``dataset`` with the folds ``names`` applied to every title, text and
    query (both sides, as an analyzer fold would), for ``lore eval --mode keyword``."""
    def fold(text: str) -> str:
        for name in names:
            text = FOLDS[name](text)
        return text
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    for split in (dataset / "qrels").glob("*.tsv"):
        shutil.copy(split, dest / "qrels" / split.name)
    with gzip.open(dest / "corpus.jsonl.gz", "wt", encoding="utf-8") as out:
        for doc in iter_corpus(dataset):
            out.write(json.dumps({"_id": doc.id, "title": fold(doc.title),
                                  "text": fold(doc.text)}) + "\n")
    with gzip.open(dest / "queries.jsonl.gz", "wt", encoding="utf-8") as out:
        for qid, text in load_queries(dataset).items():
            out.write(json.dumps({"_id": qid, "text": fold(text)}) + "\n")


def main() -> None:
    """Count each class over all pairs and the failing ones, with its words."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=SCIFACT)
    ap.add_argument("--split", default="train")
    ap.add_argument("--run", type=Path, help="TREC run file of the split (lore eval --run-file)")
    ap.add_argument("--examples", type=int, default=12)
    ap.add_argument("--write-folded", type=Path, metavar="DEST",
                    help="write the data set with --fold applied on both sides to DEST, then stop")
    ap.add_argument("--fold", action="append", choices=sorted(FOLDS), default=[])
    args = ap.parse_args()
    if args.write_folded:
        write_folded(args.dataset, args.write_folded, args.fold)
        return
    qrels = load_qrels(args.dataset, args.split)
    queries = {q: text for q, text in load_queries(args.dataset).items() if q in qrels}
    wanted = {d for rels in qrels.values() for d in rels}
    docs = {doc.id: f"{doc.title} {doc.text}"
            for doc in iter_corpus(args.dataset) if doc.id in wanted}
    fails = failing(args.run, qrels)
    tok = Tokens()
    doc_ids = sorted(docs)
    doc_tokens = dict(zip(doc_ids, (set(t) for t in tok.many(docs[d] for d in doc_ids)),
                          strict=True))
    counts: dict[str, Counter[str]] = {"all": Counter(), "failing": Counter()}
    words: dict[str, Counter[str]] = defaultdict(Counter)
    pairs = {"all": 0, "failing": 0}
    for qid, rels in sorted(qrels.items()):
        for doc in rels:
            if doc not in docs or qid not in queries:
                continue
            groups = ["all", *(["failing"] if (qid, doc) in fails else [])]
            for g in groups:
                pairs[g] += 1
            for word in _WORD.findall(queries[qid]):
                (wt,) = tok.many([word])
                content = [t for t in wt if t not in STOPWORDS]
                if not content or set(content) <= doc_tokens[doc]:
                    continue
                kind = classify(word.strip(".,;:()[]'\""), docs[doc], doc_tokens[doc], tok)
                for g in groups:
                    counts[g][kind] += 1
                if kind != "none":
                    words[kind][word.strip(".,;:()'\"").lower()] += 1
    print(f"pairs: {pairs['all']} (failing at rank 10: {pairs['failing']})")
    print(f"{'class':<10}{'all pairs':>10}{'failing':>10}")
    for kind in CLASSES:
        print(f"{kind:<10}{counts['all'][kind]:>10}{counts['failing'][kind]:>10}")
    for kind in CLASSES[:-1]:
        common = ", ".join(f"{w} {n}" for w, n in words[kind].most_common(args.examples))
        print(f"{kind}: {common}")


if __name__ == "__main__":
    main()
