"""Term proximity on the PostgreSQL store: write cost, keyword latency and parity, one run.

Schema 5 stores every posting's positions so that phrases and the pairs of
neighbouring query words (``search.proximity_weight``) are counted as FTS5
counts them; schema 6 stems as FTS5 does; schema 7 gives each two neighbouring
words a posting of their own, so pairs are read without positions. This
measures what that costs and what it buys, this tree against ``--before REV``
(e.g. ``ed9abef``, schema 5), each revision in its own database on one server,
in child processes running that revision's ``src``:

- writes: ``--docs`` SciFact documents (title + abstract, one chunk each) written
  through ``PostgresStore.replace_document`` one by one, as a sync writes them;
  printed per 100,000 documents (seconds, and the postings' size on disk);
- keyword latency: SciFact's ``--queries`` first train claims, ranked per
  document (limit 100, lore's column weights, document share and proximity
  weight, as loaded: ``LORE_*`` variables and the config file apply), after ``ANALYZE``; one untimed pass (warm: process, connection,
  buffers), then ``--repeat`` timed passes; p50 / p95 ms;
- parity: the top-10 documents of each claim against the local store (SQLite
  FTS5 with the same documents and settings): the same ids in the same order.

Revisions alternate ``--rounds`` times; medians over rounds are printed with the
after/before ratio. The server is ``--url``, else a private pgserver.

    PYTHONPATH=src nice -n 5 python bench/pg_proximity_bench.py --before main
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _shared import SCIFACT, lore_settings, pg_server, revision_src

_SQL_SIZE = ("SELECT pg_total_relation_size('lore_document_terms')"
             " + pg_total_relation_size('lore_chunk_terms')")


def corpus(docs: int) -> list[tuple[str, str, str]]:
    """(id, title, text) of SciFact's first ``docs`` documents."""
    from lore.eval.beir import iter_corpus

    out = []
    for doc in iter_corpus(SCIFACT):
        out.append((str(doc.id), doc.title, doc.text))
        if len(out) == docs:
            break
    return out


def claims(count: int) -> list[str]:
    """SciFact's first ``count`` train claims (never the test split)."""
    from lore.eval.beir import load_qrels, load_queries

    texts = load_queries(SCIFACT)
    return [texts[qid] for qid in sorted(load_qrels(SCIFACT, "train"))[:count]]


def _write(store: object, rows: list[tuple[str, str, str]]) -> float:
    from lore.documents.model import Chunk, Document

    started = time.perf_counter()
    for doc_id, title, text in rows:
        doc = Document(path=f"d/{doc_id}.md", doc_id=doc_id, uid=None, title=title,
                       doctype="Note", metadata={}, links=(), body=text, content_hash=doc_id,
                       size=len(text), mtime_ns=0)
        store.replace_document(doc, [Chunk(0, (), text, "section",  # type: ignore[attr-defined]
                                           len(text.split()))], "bench")
    return time.perf_counter() - started


def _rankings(store: object, queries: list[str]) -> tuple[list[list[str]], list[float]]:
    """Each query's top-10 document ids and its time (ms)."""
    from lore.search.fts import match_terms, proximity_pairs
    from lore.search.query import parse_query
    s = lore_settings(show=False).search
    weights = (s.title_weight, s.heading_weight, s.body_weight)
    tops, times = [], []
    for query in queries:
        parsed = parse_query(query, ())
        started = time.perf_counter()
        ranked = store.keyword_ranking(  # type: ignore[attr-defined]
            match_terms(parsed), weights=weights, limit=100, restriction=None,
            per_document=True, share=s.document_share, pairs=proximity_pairs(parsed),
            pair_weight=s.proximity_weight)
        times.append((time.perf_counter() - started) * 1000)
        rows = store.hit_rows([cid for cid, _ in ranked[:10]])  # type: ignore[attr-defined]
        tops.append([rows[cid].doc_id for cid, _ in ranked[:10]])
    return tops, times


def child(url: str, args: argparse.Namespace, out: Path) -> None:
    """One revision's run: write, analyse, rank; results as JSON in ``out``."""
    from lore.store.postgres import PostgresStore

    store = PostgresStore.open(url, "bench")
    seconds = _write(store, corpus(args.docs))
    store._conn.execute("ANALYZE")
    size = int(store._conn.execute(_SQL_SIZE).fetchone()[0])
    queries = claims(args.queries)
    tops, _ = _rankings(store, queries)
    times = [t for _ in range(args.repeat) for t in _rankings(store, queries)[1]]
    out.write_text(json.dumps({"write_s": seconds, "bytes": size, "tops": tops,
                               "times": times}))
    store.drop_root()
    store.close()


def _local_tops(args: argparse.Namespace) -> list[list[str]]:
    from lore.store.catalog import Catalog

    local = Catalog.memory()
    _write(local, corpus(args.docs))
    return _rankings(local, claims(args.queries))[0]


def _database(url: str, name: str) -> str:
    from lore.store.postgres.connection import connect

    admin = connect(url)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    admin.close()
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _run(src: Path, url: str, args: argparse.Namespace, scratch: Path) -> dict[str, object]:
    out = scratch / f"{uuid.uuid4().hex}.json"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{Path(__file__).parent}"}
    subprocess.run([sys.executable, __file__, "--docs", str(args.docs), "--queries",
                    str(args.queries), "--repeat", str(args.repeat), "--child", url, str(out)],
                   check=True, env=env)
    result: dict[str, object] = json.loads(out.read_text())
    return result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="the revision to compare against")
    parser.add_argument("--docs", type=int, default=3000, help="SciFact documents written")
    parser.add_argument("--queries", type=int, default=100, help="SciFact train claims")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per child")
    parser.add_argument("--rounds", type=int, default=2, help="children per revision")
    parser.add_argument("--url", help="a PostgreSQL server with pgvector (default: pgserver)")
    parser.add_argument("--child", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args, Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="pg-proximity-", ignore_cleanup_errors=True) as tmp:
        scratch = Path(tmp)
        url = pg_server(args.url, scratch)
        sources = {"before": revision_src(args.before, scratch),
                   "after": Path(__file__).resolve().parents[1] / "src"}
        urls = {side: _database(url, f"lore_bench_{side}") for side in sources}
        runs: dict[str, list[dict[str, object]]] = {side: [] for side in sources}
        for _ in range(args.rounds):
            for side, src in sources.items():
                runs[side].append(_run(src, urls[side], args, scratch))
        local = _local_tops(args)
        print(f"{args.docs} SciFact documents, {args.queries} train claims, "
              f"load average {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds")
        per_100k = 100_000 / args.docs
        figures: dict[str, dict[str, float]] = {}
        for side, results in runs.items():
            times = [t for r in results for t in r["times"]]  # type: ignore[attr-defined]
            tops = results[0]["tops"]
            figures[side] = {
                "write": statistics.median(float(r["write_s"]) for r in results) * per_100k,  # type: ignore[arg-type]
                "mb": statistics.median(int(r["bytes"]) for r in results) * per_100k / 1e6,  # type: ignore[call-overload]
                "p50": _pct(times, 0.5), "p95": _pct(times, 0.95),
                "same": sum(a == b for a, b in zip(tops, local)) / len(local)}  # type: ignore[arg-type]
        for key, label in (("write", "write s / 100k docs"), ("mb", "postings MB / 100k docs"),
                           ("p50", "keyword p50 ms"), ("p95", "keyword p95 ms"),
                           ("same", "top-10 same as SQLite")):
            b, a = figures["before"][key], figures["after"][key]
            print(f"{label:26} before {b:10.3f}  after {a:10.3f}  after/before {a / b:6.2f}")


if __name__ == "__main__":
    main()
