"""Kill -9 and concurrency campaigns (#14 "Must show"): bounded versions of
``bench/robustness_bench.py``; each prints its row of the closing table."""

from __future__ import annotations

from pathlib import Path

import pytest
from _robustness import Row, concurrency, kill_campaign, table


def report(rows: list[Row]) -> None:
    print("\n" + table(rows))
    for row in rows:
        for detail in row.details:
            print(f"  {row.scenario}: {detail}")


@pytest.mark.slow
def test_kill_9_at_random_points_of_lore_index(tmp_path: Path) -> None:
    row = kill_campaign(tmp_path, trials=32, files=24)
    report([row])
    assert row.trials >= 30
    assert row.failures == 0 and row.data_lost == 0, row.details


@pytest.mark.slow
def test_readers_and_writers_at_once(tmp_path: Path) -> None:
    readers, writers = concurrency(tmp_path, seconds=12, files=30)
    report([readers, writers])
    assert readers.trials > 20 and writers.trials == 8
    assert readers.failures == 0 and readers.data_lost == 0, readers.details
    assert writers.failures == 0 and writers.data_lost == 0, writers.details
