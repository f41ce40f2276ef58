"""Every id form a person types, generated from kano's front matter: is the item found first?

For every item id in the corpus' front matter this script writes the forms a
person types for it: the id as is, lowercased, with its number unpadded
(``KABSD-TSK-350``), without the product prefix (``TSK-0350``, ``TSK-350``),
without the dash (``TSK0350``), as the id's type abbreviation or the item's
type word and the number (``tsk 350``, ``task 350``), as ``#350``, as the bare
number (``0350``), inside words (``fix for KABSD-TSK-350``, ``KABSD-TSK-0350
status``), as ``ID@uid`` and as the uid. Each form names a set of files, read
off the front matter, not off lore: the id's own files, or every file whose id
carries that type part and number (``tsk 350``), whose type and number match
(``task 350``), or whose number matches (``#350``). A form is a hit when its
files lead the ranking (a prefix of the hits, copies folded into a hit's
``also_at`` included, covers them) and, when they are several items, the
search's notes call the form ambiguous and name them (or their count).

The same forms then anchor relation questions: "children of <form>" for items
that are some item's ``parent``, "what blocks <form>" for items with
``blocked_by`` links (or named in another's ``blocks``). Such a question is a
hit when the graph answers come from exactly the named items that have such
links (the ``--explain`` anchor of every answer) and, for several, the notice
names them.

Searches run in keyword mode on a keyword-only index built in a temporary
folder, with lore's settings as the CLI loads them (``LORE_*`` apply) and
embedding turned off over them (pinned id and relation answers rank above every leg, so the vector
leg cannot change whether a form finds its item first, and the run needs no
model). ``--before REV`` runs the same sweep with that commit's ``src`` (by
``git archive``) in a child process and prints both side by side.

The last table counts, over queries that hold no id (the backlog sets' non-id
questions: neither exact-id nor graph; SciFact train claims), those with an id candidate and those the id
leg pins a kano document for; they must not move.

    PYTHONPATH=src python bench/id_forms.py --root /tmp/kano/kano-backlog --before 8d446b1
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from _shared import KANO, SCIFACT, extract, revision_src

HERE = Path(__file__).resolve().parent
_ID = re.compile(r"(?P<prefix>(?:[A-Za-z][A-Za-z0-9]*-)*?)(?P<type>[A-Za-z]+)-(?P<num>\d+)")
# The word a person uses for an item's front-matter type, and for an id's type part.
TYPE_WORDS = {"Task": "task", "Bug": "bug", "Epic": "epic", "Feature": "feature",
              "UserStory": "user story", "Story": "user story", "ADR": "ADR", "Decision": "ADR"}
PART_WORDS = {"TSK": "task", "BUG": "bug", "EPIC": "epic", "FTR": "feature", "USR": "user story",
              "ADR": "ADR"}
PLAIN_FORMS = ("exact", "lower", "unpadded", "short", "short_unpadded", "nodash", "abbrev",
               "type_word", "hash", "number", "words_before", "words_after", "id_at_uid", "uid")
ANCHOR_FORMS = tuple(f for f in PLAIN_FORMS if not f.startswith("words_"))
RELATIONS = {"children": "children of {}", "blocked_by": "what blocks {}"}


class Item:
    """One file's identity as its front matter gives it."""

    def __init__(self, path: str, meta: dict[str, Any]) -> None:
        self.path = path
        self.doc_id = str(meta["id"])
        self.uid = str(meta.get("uid") or "")
        self.doctype = str(meta.get("type") or "")
        self.parent = str(meta.get("parent") or "")
        links = meta.get("links") if isinstance(meta.get("links"), dict) else {}
        self.blocks = [str(x) for x in links.get("blocks") or []]
        self.blocked_by = [str(x) for x in links.get("blocked_by") or []]
        match = _ID.fullmatch(self.doc_id)
        self.prefix, self.kind, self.number = (
            (match["prefix"], match["type"], match["num"]) if match else ("", "", ""))
        # ADRs often carry no type: their id part says what they are
        self.word = TYPE_WORDS.get(self.doctype) or PART_WORDS.get(self.kind.upper(), "")


def read_items(root: Path) -> list[Item]:
    """Every Markdown file under ``root`` with an ``id`` in its front matter."""
    items = []
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root)
        text = path.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n---", 3)
        if ".lore" in rel.parts or not text.startswith("---") or end < 0:
            continue
        try:
            meta = yaml.safe_load(text[3:end])
        except yaml.YAMLError:
            continue
        if isinstance(meta, dict) and meta.get("id"):
            items.append(Item(rel.as_posix(), meta))
    return items


def forms(item: Item) -> dict[str, str]:
    """Form name -> the text a person types for ``item`` (forms that do not apply left out)."""
    found = {"exact": item.doc_id, "lower": item.doc_id.lower(),
             "words_after": f"{item.doc_id} status"}
    if item.uid:
        found["id_at_uid"] = f"{item.doc_id}@{item.uid[:8]}"
        found["uid"] = item.uid
    if not item.number:
        return found
    n = str(int(item.number))
    unpadded = f"{item.prefix}{item.kind}-{n}"
    found.update(short=f"{item.kind}-{item.number}", short_unpadded=f"{item.kind}-{n}",
                 nodash=f"{item.kind}{item.number}", abbrev=f"{item.kind.lower()} {n}",
                 hash=f"#{n}", number=item.number, words_before=f"fix for {unpadded}")
    if unpadded != item.doc_id:
        found["unpadded"] = unpadded
    if item.word:
        found["type_word"] = f"{item.word} {n}"
    return found


def meaning(form: str, item: Item, items: list[Item]) -> set[str]:
    """The paths a person means by ``item``'s ``form``, read off the front matter."""
    number = int(item.number) if item.number else None
    if form == "uid":
        return {item.path}
    if form == "id_at_uid":  # an 8-character uid prefix two files of one id may share
        return {i.path for i in items if i.doc_id == item.doc_id
                and i.uid.startswith(item.uid[:8])}
    if form in ("short", "short_unpadded", "nodash", "abbrev", "type_word"):
        # "FTR-0001", "ftr 1": the features numbered 1 and the ids with that type part
        # (KCCS-FTR-0001 is an Epic by its front matter); "task 350": the tasks
        word = PART_WORDS.get(item.kind.upper()) if form != "type_word" else item.word
        return {i.path for i in items if i.number and int(i.number) == number
                and (i.word == word or (form != "type_word"
                                        and i.kind.lower() == item.kind.lower()))}
    if form in ("hash", "number"):
        return {i.path for i in items if i.number and int(i.number) == number}
    return {i.path for i in items if i.doc_id.lower() == item.doc_id.lower()}


def leads(hits: list[Any], wanted: set[str]) -> bool:
    """Whether the first hits, each a wanted file or standing for one as a copy
    (``also_at``), cover ``wanted`` before any other hit."""
    covered: set[str] = set()
    for hit in hits:
        paths = {hit.path, *getattr(hit, "also_at", ())} & wanted
        if not paths:
            return False
        covered |= paths
        if covered == wanted:
            return True
    return False


def names_them(text: str, doc_ids: set[str], files: int) -> bool:
    """Whether a note calls the form ambiguous and names ``doc_ids`` (or counts the files)."""
    return "ambiguous" in text and (all(d in text for d in doc_ids)
                                    or f"{files} documents" in text)


def bench_settings(root: Path) -> Any:
    """lore's settings as the CLI loads them for ``root``, embedding off (see the docstring)."""
    from _shared import lore_settings

    return lore_settings(root, fixed={"embed.enabled": False})


def sweep(root: Path, index_dir: Path) -> dict[str, Any]:
    """Run every plain and anchor form; return per-form tallies and the false-positive counts."""
    from lore.index import open_index

    items = read_items(root)
    by_id = {i.path: i for i in items}
    parents = {i.parent for i in items if i.parent}
    blocked = {i.doc_id for i in items if i.blocked_by} | {b for i in items for b in i.blocks}
    index = open_index(root, settings=bench_settings(root), index_dir=index_dir)
    index.sync()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    examples: dict[str, str] = {}
    for item in items:
        for form, text in forms(item).items():
            examples.setdefault(form, text)
            wanted = meaning(form, item, items)
            ok = _plain_ok(index, text, wanted, {by_id[p].doc_id for p in wanted})
            _count(tally, misses, form, text, ok)
            if form not in ANCHOR_FORMS:
                continue
            for relation, template in RELATIONS.items():
                linked = parents if relation == "children" else blocked
                anchors = {by_id[p].doc_id for p in wanted} & linked
                if item.doc_id in linked:
                    ok = _anchor_ok(index, template.format(text), anchors, wanted,
                                    {by_id[p].doc_id for p in wanted})
                    _count(tally, misses, f"{relation}:{form}", template.format(text), ok)
                    examples.setdefault(f"{relation}:{form}", template.format(text))
    negatives = false_positive_counts(index)
    index.close()
    return {"tally": dict(tally), "misses": dict(misses), "negatives": negatives,
            "examples": examples}


def _plain_ok(index: Any, text: str, wanted: set[str], doc_ids: set[str]) -> bool:
    hits = index.search(text, mode="keyword", explain=True, limit=max(10, len(wanted) + 5))
    if not leads(list(hits), wanted):
        return False
    notes = " ".join(hits[0].explain["query"]) if hits and hits[0].explain else ""
    return len(doc_ids) == 1 or names_them(notes, doc_ids, len(wanted))


def _anchor_ok(index: Any, question: str, anchors: set[str], wanted: set[str],
               named: set[str]) -> bool:
    """Whether the graph leg answers ``question`` from exactly ``anchors`` (and, when
    the form names several items, its notice names them)."""
    from lore.search.graph_leg import relation_leg

    graph = relation_leg(index._store, question, None)
    if graph is None or not graph.answer.answers:
        return not anchors
    found = graph.answer
    # a single ``anchor`` before ambiguous anchors were answered for each item
    answered = {a.doc_id for a in getattr(found, "anchors", None) or (found.anchor,)}
    if answered != anchors:
        return False
    return len(named) == 1 or names_them(graph.notice() or "", named, len(wanted))


def _count(tally: dict[str, list[int]], misses: dict[str, list[str]], form: str, text: str,
           ok: bool) -> None:
    tally[form][0] += ok
    tally[form][1] += 1
    if not ok:
        misses[form].append(text)


def no_id_queries() -> dict[str, list[str]]:
    """Query set -> queries that hold no id: the backlog sets' non-exact questions and
    SciFact's claims with a train judgement."""
    backlog = [json.loads(line) for name in ("questions.jsonl", "questions-b.jsonl",
                                             "questions-c.jsonl")
               for line in (HERE / "backlog" / name).read_text().splitlines() if line]
    found = {"backlog non-id": [q["query"] for q in backlog
                                if q["class"] not in ("exact", "graph")]}
    qrels = SCIFACT / "qrels" / "train.tsv"
    if qrels.exists():
        train = {line.split("\t")[0] for line in qrels.read_text().splitlines()[1:]}
        with gzip.open(SCIFACT / "queries.jsonl.gz", "rt") as lines:
            claims = [json.loads(line) for line in lines]
        found["scifact train"] = [c["text"] for c in claims if c["_id"] in train]
    return found


def false_positive_counts(index: Any) -> dict[str, list[Any]]:
    """Query set -> per query, in order: [its id candidates as (text, doctype), the kano
    paths the id leg pins for it]."""
    from lore.search.idmatch import id_candidates
    from lore.search.query import parse_query

    found: dict[str, list[Any]] = {}
    for name, queries in no_id_queries().items():
        found[name] = []
        for query in queries:
            candidates = sorted([c.text, c.doctype or ""]
                                for c in id_candidates(parse_query(query, set())))
            hits = index.search(query, mode="keyword", explain=True, limit=10)
            pinned = sorted(h.path for h in hits if h.explain and "id" in h.explain["legs"])
            found[name].append([candidates, pinned])
    return found


def run_revision(rev: str, root: Path, scratch: Path) -> dict[str, Any]:
    """The sweep with ``rev``'s ``src``, in a child process (this script, ``--emit``)."""
    src = revision_src(rev, scratch)
    out = scratch / "before.json"
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, __file__, "--root", str(root), "--emit", str(out)],
                   check=True, env=env)
    return dict(json.loads(out.read_text()))


def print_tables(runs: dict[str, dict[str, Any]], show: int) -> None:
    """Per form: hits / total for each run; then the false-positive counts."""
    names = list(runs)
    forms_seen = list(dict.fromkeys(f for r in runs.values() for f in r["tally"]))
    print(f"{'form':28} {'example':30} " + " ".join(f"{n:>14}" for n in names))
    example = runs[names[-1]]["examples"]
    for form in forms_seen:
        cells = []
        for name in names:
            hit, total = runs[name]["tally"].get(form, [0, 0])
            cells.append(f"{hit:>5}/{total:<5} {hit / total if total else 0:.2f}")
        print(f"{form:28} {example.get(form, '')[:30]:30} " + " ".join(cells))
    print(f"\n{'queries without an id':22} {'n':>5} " + " ".join(
        f"{n + ' with candidates/pinned':>34}" for n in names)
          + ("  differing from the first" if len(names) > 1 else ""))
    first = runs[names[0]]["negatives"]
    for query_set, queries in runs[names[-1]]["negatives"].items():
        cells = [f"{sum(bool(c) for c, _ in r['negatives'][query_set]):>22}/"
                 f"{sum(bool(p) for _, p in r['negatives'][query_set]):<11}"
                 for r in runs.values()]
        differ = sum(a != b for a, b in zip(first[query_set], queries, strict=True))
        print(f"{query_set:22} {len(queries):>5} " + " ".join(cells)
              + (f"  {differ}" if len(names) > 1 else ""))
    if show:
        for form, texts in runs[names[-1]]["misses"].items():
            print(f"\nmisses {form} ({len(texts)}): " + "; ".join(texts[:show]))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="an extracted kano corpus (read only)")
    parser.add_argument("--corpus", type=Path, default=KANO, help="the kano tarball")
    parser.add_argument("--before", help="also run this commit's src and print it beside")
    parser.add_argument("--show-misses", type=int, default=0, help="print N misses per form")
    parser.add_argument("--emit", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(None if argv is None else list(argv))
    with tempfile.TemporaryDirectory(prefix="lore-idforms-") as scratch_dir:
        scratch = Path(scratch_dir)
        root = args.root
        if root is None:
            extract(args.corpus, scratch)
            root = scratch / "kano-backlog"
        if args.emit is not None:
            args.emit.write_text(json.dumps(sweep(root, scratch / "index")))
            return 0
        runs = {}
        if args.before:
            runs[args.before] = run_revision(args.before, root, scratch)
        runs["this tree"] = sweep(root, scratch / "index")
    print_tables(runs, args.show_misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
