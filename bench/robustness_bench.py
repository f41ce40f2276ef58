"""The robustness table of issue 14: scenario, trials, failures, data lost.

Runs, in one process and one temporary folder (hashing embedder, no model):

- SIGKILL at random points of ``lore index`` (sync, embedding, sidecar save),
  each followed by ``verify`` (``repair`` when it fails) and a comparison with a
  clean build of the same files;
- 4 API reader threads (long-lived ``Index`` objects) and 4 CLI reader loops
  searching while a writer edits files and runs ``lore index``, for --seconds;
  then pairs of concurrent ``lore index``;
- the provider fault matrix against a fake OpenAI-compatible server on
  127.0.0.1: every bad reply, nothing stored or cached, search degrades.

Usage::

    PYTHONPATH=src python bench/robustness_bench.py --kills 60 --seconds 60

Settings: the run's own user file sets the hashing provider (``LORE_CONFIG``);
``LORE_*`` variables apply over it, in the ``lore`` processes and the API readers
alike. The fault matrix fixes its fake provider over them (``fault_settings``).

Timing is not the point here (nothing is timed against a baseline); the table
counts outcomes. Absolute run times depend on the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _fake_provider import FAULTS, FakeProvider, cached_vectors, dead_url
from _robustness import Row, concurrency, kill_campaign, make_corpus, table
from _shared import lore_settings


def provider_faults(work: Path) -> Row:
    """Every bad reply: nothing stored or cached, and hybrid search degrades with a notice."""
    import lore.embed._http as http
    from lore.index import open_index

    http._sleep = lambda seconds: None   # retries without their waits
    row = Row("provider fault matrix (index + search per fault)")
    server = FakeProvider()
    try:
        for fault in FAULTS:
            home = work / f"home-{fault}"   # a cache of its own: every fault meets the server
            home.mkdir(parents=True)
            os.environ["LORE_HOME"] = str(home)
            cache = home / "embed-cache.sqlite"

            bad_url = dead_url() if fault == "dead" else server.base_url
            root = make_corpus(work / f"faults-{fault}", 6)
            server.mode = fault
            with open_index(root, settings=fault_settings(bad_url)) as index:
                report = index.sync()
            stored = _stored_vectors(root)
            cached = cached_vectors(cache)
            row.trials += 1
            if not report.notices or stored or cached:
                row.failures += 1
                row.data_lost += stored
                row.details.append(f"{fault}: notices={report.notices} stored={stored} "
                                   f"cached={cached}")
            server.mode = "ok"
            with open_index(root, settings=fault_settings(server.base_url)) as index:
                index.sync()
            if fault == "index0_reversed":
                continue   # a one-text reply with index 0 is correct: search is unaffected
            server.mode = fault
            with open_index(root, settings=fault_settings(bad_url)) as index:
                hits = index.search(f"topic3 alpha {fault}")
                row.trials += 1
                if not hits or not any("keyword results only" in n for n in hits.notices):
                    row.failures += 1
                    row.details.append(f"{fault}: search did not degrade: {hits.notices}")
    finally:
        server.close()
    return row


def fault_settings(url: str) -> Any:
    """lore's settings as loaded, with the fake OpenAI-compatible provider at ``url`` (short
    timeout, small batches) fixed over them; the embedding cache stays as loaded (on by
    default), since the matrix checks that no bad reply reaches it."""
    return lore_settings(fixed={
        "embed.primary.provider": "openai", "embed.primary.model": "fake",
        "embed.primary.base_url": url, "embed.primary.dimensions": 16,
        "embed.primary.timeout_s": 0.5, "embed.primary.batch_size": 4}, show=False)


def _stored_vectors(root: Path) -> int:
    from lore.store.catalog import Catalog

    with Catalog.open(root / ".lore", create=False) as catalog:
        return sum(catalog.vector_count(space) for space in catalog.spaces())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60, help="SIGKILLs of `lore index`")
    parser.add_argument("--files", type=int, default=24, help="notes in the corpus")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="duration of the readers-and-writer run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lore-robustness-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        (home / "config.toml").write_text('[embed.primary]\nprovider = "hashing"\n')
        os.environ.update(LORE_HOME=str(home), LORE_CONFIG=str(home / "config.toml"))
        lore_settings()   # prints what the `lore index` / `lore search` processes run with
        rows = [kill_campaign(work / "kill", trials=args.kills, files=args.files)]
        rows += list(concurrency(work / "conc", seconds=args.seconds, files=args.files))
        rows.append(provider_faults(work / "faults"))
    print(table(rows))
    for row in rows:
        for detail in row.details:
            print(f"- {row.scenario}: {detail}")


if __name__ == "__main__":
    main()
