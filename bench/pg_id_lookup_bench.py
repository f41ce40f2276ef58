"""Id lookups on a large shared PostgreSQL store: this tree against ``--before REV``, one run.

Team mode puts many roots, hundreds of thousands of documents, in one
database, and the exact-id leg looks every id-shaped token of a query up in
up to five forms (``lore.search.idmatch``). Before schema 4 the suffix,
uid-prefix and file-stem forms were ``LIKE`` scans of the root's documents;
this measures what the leg costs per query with each revision's code and
schema, on the same generated store.

The store: ``--roots`` roots of ``--docs`` documents each in one database
(backlog-shaped: ``PRJ<r>-TSK-0350``-style ids of five types, uuid-shaped uids,
``items/<type>/<hundreds>/<id>_<slug>.md`` paths, a ``README.md`` per root, one
chunk and a ``type`` field each), written straight into each revision's tables by SQL: a sync of
100,000 files would take an hour here, and only the documents table matters.
Each revision gets its own database, migrated by its own ``PostgresStore.open``
(an older lore refuses a newer schema), filled with the same rows, analysed.

The queries, against root 1: ``--queries`` sentences holding id-shaped tokens
that name nothing ("IL-6", "TDP-43": the usual case in prose), and as many
that name something (a full id, a short id, "task 350", a uid prefix, a file
stem, "README"). Per revision and round a fresh child process opens the root
and runs ``id_leg(store, id_candidates(query))`` for every query once untimed
(warm: process, connection, PostgreSQL's buffers, psycopg's prepared
statements), then ``--repeat`` timed passes. Revisions alternate ``--rounds``
times. Printed: p50 / p95 ms per group and revision, the ratio, and whether
both revisions found the same documents for every query.

    PYTHONPATH=src nice -n 5 python bench/pg_id_lookup_bench.py --before main
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from _shared import pg_server, revision_src

HERE = Path(__file__).resolve().parent
_TYPES = (("TSK", "Task"), ("BUG", "Bug"), ("FTR", "Feature"), ("USR", "UserStory"),
          ("EPIC", "Epic"))
_WORDS = ("cache", "index", "sync", "vector", "ranking", "parser", "server", "schema",
          "watch", "links", "notes", "release", "config", "store", "query", "model")
_PROSE = ("IL", "TDP", "PD", "CD", "HER", "COX", "TNF", "NF", "APOE", "BRCA", "MMP", "TGF")
_QUERY_ROOT = 1


def documents(root: int, count: int) -> list[tuple[str, str, str, str, str]]:
    """(path, doc id, uid, title, doctype) of root ``root``'s generated documents."""
    rows = [("README.md", "README.md", _uid(root, 0), "Readme", "Note")]
    for n in range(1, count):
        short, doctype = _TYPES[n % len(_TYPES)]
        number = n // len(_TYPES) + 1
        doc_id = f"PRJ{root}-{short}-{number:04d}"
        words = "-".join(_WORDS[(n * k) % len(_WORDS)] for k in (1, 3, 7))
        rows.append((f"items/{doctype.lower()}/{number // 100 * 100:04d}/{doc_id}_{words}.md",
                     doc_id, _uid(root, n), words.replace("-", " "), doctype))
    return rows


def _uid(root: int, n: int) -> str:
    digest = hashlib.md5(f"{root}-{n}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-7{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def queries(count: int, docs: int, seed: int = 7) -> dict[str, list[str]]:
    """``count`` queries whose id-shaped tokens name nothing, ``count`` that name something."""
    rng = random.Random(seed)
    rows = documents(_QUERY_ROOT, docs)
    nothing = [f"role of {rng.choice(_PROSE)}-{rng.randint(1, 99)} in "
               f"{rng.choice(_WORDS)} and {rng.choice(_PROSE)}-{rng.randint(1, 99)}"
               for _ in range(count)]
    something = []
    for k in range(count):
        path, doc_id, uid, _, doctype = rows[rng.randrange(1, len(rows))]
        number = doc_id.rsplit("-", 1)[1]
        something.append([f"{doc_id} status", f"{doc_id.split('-', 1)[1]} owner",
                          f"{doctype.lower()} {int(number)}", f"what is {uid[:8]}",
                          Path(path).stem, "README"][k % 6])
    return {"nothing": nothing, "something": something}


def fill(url: str, roots: int, docs: int) -> str:
    """Open (migrating with this process's lore) and fill ``roots`` roots; say the schema."""
    from lore.store.postgres import PostgresStore
    from lore.store.postgres.schema import schema_version

    for root in range(roots):
        store = PostgresStore.open(url, f"bench-{root}")
        conn = store._conn
        rows = documents(root, docs)
        conn.execute(
            "INSERT INTO lore_documents(root_id, path, doc_id, uid, title, doctype, metadata,"
            " body, content_hash, size, mtime_ns, chunker_version, indexed_at)"
            " SELECT %s, p, i, u, t, d, '{}', t, p, 1, 0, 'bench', 0"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
            " AS r(p, i, u, t, d)", [store._root_id, *(list(c) for c in zip(*rows))])
        conn.execute("INSERT INTO lore_chunks(document_id, root_id, ordinal, kind, heading_path,"
                     " text, token_estimate, tsv, token_count) SELECT id, root_id, 0, 'section',"
                     " '[]', title, 1, '', 1 FROM lore_documents WHERE root_id = %s",
                     (store._root_id,))
        conn.execute("INSERT INTO lore_fields(document_id, root_id, key, value) SELECT id,"
                     " root_id, 'type', lower(doctype) FROM lore_documents WHERE root_id = %s",
                     (store._root_id,))
        version = schema_version(conn)
        store.close()
    from lore.store.postgres.connection import connect

    conn = connect(url)
    conn.execute("ANALYZE")
    conn.close()
    return f"schema {version}"


def child(url: str, docs: int, count: int, repeat: int, out: Path) -> None:
    """Time the id leg of every query in this process (whichever lore is on the path)."""
    from lore.search.idmatch import id_candidates, id_leg
    from lore.search.query import parse_query
    from lore.store.postgres import PostgresStore

    store = PostgresStore.open(url, f"bench-{_QUERY_ROOT}", create=False)
    groups = queries(count, docs)
    times: dict[str, list[float]] = {group: [] for group in groups}
    found: dict[str, list[str]] = {}
    for timed in [False] + [True] * repeat:
        for group, texts in groups.items():
            for text in texts:
                start = time.perf_counter()
                leg = id_leg(store, id_candidates(parse_query(text, set())))
                spent = (time.perf_counter() - start) * 1000
                if timed:
                    times[group].append(spent)
                rows = store.hit_rows([chunk for chunk, _ in leg.ranked])
                found[text] = [rows[chunk].path for chunk, _ in leg.ranked]
    store.close()
    out.write_text(json.dumps({"times": times, "found": found}))


def _run(src: Path, args: argparse.Namespace, *extra: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--docs", str(args.docs), "--roots",
                           str(args.roots), "--queries", str(args.queries), "--repeat",
                           str(args.repeat), *extra], check=True, env=env, capture_output=True,
                          text=True)
    return done.stdout.strip()


def _database(url: str, name: str) -> str:
    """A new database ``name`` on ``url``'s server; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL server whose user may create databases "
                        "(default: a private pgserver)")
    parser.add_argument("--before", default="main", help="the revision to compare against")
    parser.add_argument("--roots", type=int, default=4)
    parser.add_argument("--docs", type=int, default=25_000, help="documents per root")
    parser.add_argument("--queries", type=int, default=60, help="queries per group")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per child")
    parser.add_argument("--rounds", type=int, default=2, help="children per revision")
    parser.add_argument("--fill", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        print(fill(args.fill, args.roots, args.docs))
        return
    if args.child:
        child(args.child[0], args.docs, args.queries, args.repeat, Path(args.child[1]))
        return

    from lore.eval.metrics import percentile

    print(f"{args.roots} roots x {args.docs} documents in one database; {args.queries} queries "
          f"per group against one root, {args.repeat} passes x {args.rounds} rounds per "
          f"revision; load average {os.getloadavg()[0]:.1f} at start (absolute times depend "
          "on it)")
    with tempfile.TemporaryDirectory(prefix="lore-pgid-bench-") as tmp:
        scratch = Path(tmp)
        url = pg_server(args.url, scratch)
        trees = {args.before: revision_src(args.before, scratch), "this tree": HERE.parent / "src"}
        urls = {}
        for n, (name, src) in enumerate(trees.items()):
            urls[name] = _database(url, f"lore_idbench_{n}")
            started = time.perf_counter()
            schema = _run(src, args, "--fill", urls[name])
            print(f"{name}: {schema}, filled in {time.perf_counter() - started:.1f} s")
        results: dict[str, dict[str, Any]] = {name: {"times": {}} for name in trees}
        for round_ in range(args.rounds):
            for n, (name, src) in enumerate(trees.items()):
                out = scratch / f"{round_}-{n}.json"
                _run(src, args, "--child", urls[name], str(out))
                found = json.loads(out.read_text())
                for group, values in found["times"].items():
                    results[name]["times"].setdefault(group, []).extend(values)
                results[name]["found"] = found["found"]
        print(f"\nid leg per query (ms)   {'nothing p50':>11} {'p95':>7} "
              f"{'something p50':>13} {'p95':>7}")
        p50s = {}
        for name in trees:
            times = results[name]["times"]
            p50s[name] = (percentile(times["nothing"], 50), percentile(times["something"], 50))
            print(f"{name:24} {p50s[name][0]:11.2f} {percentile(times['nothing'], 95):7.2f} "
                  f"{p50s[name][1]:13.2f} {percentile(times['something'], 95):7.2f}")
        (before_none, before_some), (after_none, after_some) = p50s.values()
        found_before, found_after = (results[name]["found"] for name in trees)
        named = sum(bool(paths) for paths in found_after.values())
        print(f"ratio this tree / {args.before}: nothing p50 {after_none / before_none:.3f}x, "
              f"something p50 {after_some / before_some:.3f}x; documents found "
              f"{'identical' if found_before == found_after else 'DIFFER'} "
              f"({named} of {len(found_after)} queries name some); load average "
              f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
