"""What folding Traditional and Simplified Chinese costs: table load, index time, upgrade, queries.

Every figure is measured against the same code with folding replaced by the
identity (which is what lore did before it folded), in the same run:

1. table: loading and checking the character table in a fresh process
   (cold: ``python -c``, after importing ``lore.index`` as every lore command
   does, best of ``--repeat``), milliseconds; the import itself for scale.
2. index: a keyword-only full index (embedding off: folding leaves vectors
   alone) of kano, and of a Chinese-heavy folder (``--copies`` renamed copies of
   kano's most Chinese file, ``docs/orphan-commit-detection.md``), each into a
   fresh index folder, folded and unfolded interleaved ``--repeat`` times;
   median and best seconds and their ratios. The files are in the page cache
   (warm). On a loaded machine these ratios carry the load's noise, so the
   work folding adds is also timed alone: the CJK column of every text the
   index derives one for (each document's title and body, each chunk's title,
   headings and text), best of ``--repeat`` passes, CPU-bound and in-process.
3. upgrade: opening a kano index written without folding (schema 3), which
   re-derives the CJK column of the documents with CJK text (once per index);
   with ``--old-index DIR``, also a copy of that schema 3 index folder (a
   SciFact eval index, say: no CJK, so the cost of reading it all once).
4. query: keyword search at limit 10, each side on its own index (folded
   queries on the folded index, unfolded on the unfolded one), interleaved;
   p50 milliseconds per kind of query: Traditional Chinese (the corpus's
   script: both sides find the same files), Simplified (found only when
   folded, so the sides do different work) and English (folding never runs).
   Warm: the process, both indexes, their in-memory keyword copies.

Absolute times depend on the machine's load: say the load average.

    PYTHONPATH=src python bench/chinese_fold_bench.py --root /tmp/kano/kano-backlog
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from pathlib import Path

from _shared import KANO, extract, lore_settings

import lore.documents.cjk
import lore.search.fts
import lore.search.keyword
import lore.store.connection
import lore.store.migrations
from lore.documents.cjk import cjk_runs, run_tokens
from lore.index import Index, open_index
from lore.paths import CATALOG_FILE
from lore.settings import Settings

CHINESE_FILE = Path("docs") / "orphan-commit-detection.md"
QUERIES = {"Traditional": ("溫柔提醒", "批次檢查", "補票", "先上車後補票"),
           "Simplified": ("温柔提醒", "批次检查", "补票", "先上车后补票"),
           "English": ("orphan commit detection", "backlog discipline", "git hooks", "hooks")}
FOLDED_MODULES = (lore.documents.cjk, lore.search.fts, lore.search.keyword)


def bench_settings() -> Settings:
    """lore's settings as ``lore eval`` loads them (``LORE_*`` apply), embedding off."""
    return lore_settings(fixed={"embed.enabled": False})


@contextlib.contextmanager
def unfolded() -> Iterator[None]:
    """lore as it was before folding: every fold is the identity."""
    saved = [module.fold_han for module in FOLDED_MODULES]
    for module in FOLDED_MODULES:
        module.fold_han = str   # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, fold in zip(FOLDED_MODULES, saved, strict=True):
            module.fold_han = fold   # type: ignore[attr-defined]


def side(folded: bool) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if folded else unfolded()


def table_load_ms(repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` fresh processes: (importing lore.index, then loading the table), ms."""
    code = ("import time; t = time.perf_counter(); import lore.index; "
            "from lore.documents.hanfold import fold_table; u = time.perf_counter(); "
            "fold_table(); print(u - t, time.perf_counter() - u)")
    runs = [[float(x) for x in subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()]
        for _ in range(repeat)]
    return 1000 * min(r[0] for r in runs), 1000 * min(r[1] for r in runs)


def index_seconds(root: Path, scratch: Path, repeat: int,
                  settings: Settings) -> dict[bool, list[float]]:
    """Full keyword-only index times of ``root``, folded and unfolded, interleaved."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for n in range(repeat):
        for folded in ((True, False) if n % 2 == 0 else (False, True)):
            folder = scratch / f"index-{folded}-{n}"
            with side(folded):
                start = time.perf_counter()
                with open_index(root, settings=settings, index_dir=folder) as index:
                    index.sync()
                times[folded].append(time.perf_counter() - start)
            shutil.rmtree(folder)
    return times


def _unfolded_cjk(text: str | None) -> str:
    """The CJK column as schema 3 wrote it: the runs' bigrams as written."""
    return " ".join(t for run in cjk_runs(text or "") for t in run_tokens(run))


def column_ms(root: Path, scratch: Path, repeat: int, settings: Settings) -> dict[bool, float]:
    """Best-of-``repeat`` milliseconds to derive the CJK column of every text of ``root``."""
    folder = scratch / "texts"
    with open_index(root, settings=settings, index_dir=folder) as index:
        index.sync()
    conn = lore.store.connection.connect(folder / CATALOG_FILE)
    texts = [f"{t} {b}" for t, b in conn.execute("SELECT title, body FROM documents")]
    texts += [f"{t} {h} {b}" for t, h, b in conn.execute(
        "SELECT title, headings, body FROM chunks_fts")]
    conn.close()
    shutil.rmtree(folder)
    best: dict[bool, float] = {}
    for folded in (True, False):
        with side(folded):
            best[folded] = 1000 * min(timeit.repeat(
                lambda: [lore.documents.cjk.cjk_index_text(t) for t in texts],
                number=1, repeat=repeat))
    return best


def upgrade_seconds(root: Path, scratch: Path, settings: Settings) -> float:
    """Opening an index written before folding (schema 3): the one-time re-derivation."""
    folder = scratch / "old-index"
    saved = lore.store.migrations.MIGRATIONS
    saved_cjk = lore.store.connection._cjk_or_empty
    lore.store.migrations.MIGRATIONS = saved[:3]
    lore.store.connection._cjk_or_empty = _unfolded_cjk
    try:
        with open_index(root, settings=settings, index_dir=folder) as index:
            index.sync()
    finally:
        lore.store.migrations.MIGRATIONS = saved
        lore.store.connection._cjk_or_empty = saved_cjk
    start = time.perf_counter()
    open_index(root, settings=settings, index_dir=folder).close()
    return time.perf_counter() - start


def migrate_copy_seconds(index_dir: Path, scratch: Path) -> tuple[int, float]:
    """(documents, seconds) to bring a copy of a schema 3 catalog to the current schema."""
    copy = scratch / "old-copy"
    copy.mkdir()
    for name in (CATALOG_FILE, f"{CATALOG_FILE}-wal"):
        if (index_dir / name).exists():
            shutil.copy2(index_dir / name, copy / name)
    conn = lore.store.connection.connect(copy / CATALOG_FILE)
    try:
        if lore.store.migrations.schema_version(conn) != 3:
            raise SystemExit(f"{index_dir} is not a schema 3 index")
        (documents,) = conn.execute("SELECT count(*) FROM documents").fetchone()
        start = time.perf_counter()
        lore.store.migrations.migrate(conn)
        return int(documents), time.perf_counter() - start
    finally:
        conn.close()


def query_ms(root: Path, scratch: Path, repeat: int,
             settings: Settings) -> dict[tuple[bool, str], list[float]]:
    """Keyword search times, (folded, kind of query) -> per-query milliseconds."""
    indexes: dict[bool, Index] = {}
    for folded in (True, False):
        with side(folded):
            indexes[folded] = open_index(root, settings=settings,
                                         index_dir=scratch / f"query-{folded}")
            indexes[folded].sync()
            indexes[folded].prepare_keyword_search(wait=True)
    times: dict[tuple[bool, str], list[float]] = {(f, k): [] for f in (True, False)
                                                  for k in QUERIES}
    try:
        for n in range(repeat):
            for kind, queries in QUERIES.items():
                for query in queries:
                    for folded in ((True, False) if n % 2 == 0 else (False, True)):
                        with side(folded):
                            start = time.perf_counter()
                            indexes[folded].search(query, limit=10, mode="keyword")
                            elapsed = 1000 * (time.perf_counter() - start)
                        times[(folded, kind)].append(elapsed)
    finally:
        for index in indexes.values():
            index.close()
    return times


def chinese_folder(root: Path, dest: Path, copies: int) -> Path:
    """``copies`` renamed copies of the corpus's most Chinese file."""
    dest.mkdir()
    text = (root / CHINESE_FILE).read_text(encoding="utf-8")
    for n in range(copies):
        (dest / f"note-{n:04}.md").write_text(text.replace("# ", f"# {n} ", 1), encoding="utf-8")
    return dest


def ratio_line(label: str, folded: list[float], plain: list[float], unit: str) -> str:
    """Medians, and for index times the best runs too, folded against unfolded."""
    a, b = statistics.median(folded), statistics.median(plain)
    line = f"{label:<34} folded {a:9.3f} {unit}   unfolded {b:9.3f} {unit}   ratio {a / b:.3f}"
    if unit.strip() == "s":
        line += f"   (best {min(folded):.3f} / {min(plain):.3f}: {min(folded) / min(plain):.3f})"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="an extracted kano backlog (default: extract)")
    parser.add_argument("--corpus", type=Path, default=KANO, help="the kano tarball")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--old-index", type=Path,
                        help="a schema 3 index folder to time the upgrade of (copied first)")
    parser.add_argument("--copies", type=int, default=300,
                        help="copies of the Chinese file in the Chinese-heavy folder")
    args = parser.parse_args()
    settings = bench_settings()
    with tempfile.TemporaryDirectory(prefix="lore-zh-") as tmp:
        scratch = Path(tmp)
        root = args.root
        if root is None:
            if not args.corpus.exists():
                parser.error(f"{args.corpus} is absent: pass --root or --corpus")
            extract(args.corpus, scratch / "corpus")
            root = scratch / "corpus" / "kano-backlog"
        imports, load = table_load_ms(args.repeat)
        print(f"table load (fresh process, best of {args.repeat}): {load:.2f} ms "
              f"(importing lore.index: {imports:.0f} ms)")
        heavy = chinese_folder(root, scratch / "chinese", args.copies)
        for name, folder in (("kano", root), (f"{args.copies} Chinese files", heavy)):
            runs = index_seconds(folder, scratch, args.repeat, settings)
            print(ratio_line(f"index {name} (keyword only)", runs[True], runs[False], "s "))
        for name, folder in (("kano", root), (f"{args.copies} Chinese files", heavy)):
            column = column_ms(folder, scratch, args.repeat, settings)
            print(f"{'CJK column, ' + name:<34} folded {column[True]:9.3f} ms   unfolded "
                  f"{column[False]:9.3f} ms   ratio {column[True] / column[False]:.3f}")
        upgrade = upgrade_seconds(root, scratch, settings)
        print(f"upgrade a schema 3 kano index (once): {upgrade:.3f} s")
        if args.old_index is not None:
            documents, seconds = migrate_copy_seconds(args.old_index, scratch)
            print(f"upgrade a copy of {args.old_index} ({documents} documents): {seconds:.3f} s")
        times = query_ms(root, scratch, args.repeat, settings)
        for kind in QUERIES:
            print(ratio_line(f"query p50, {kind}", times[(True, kind)], times[(False, kind)],
                             "ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
