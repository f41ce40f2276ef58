"""TREC run files: six space-separated columns, ranks from 1, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lore.eval.trec import format_run_lines, write_run


def test_run_file_columns_and_ranks(tmp_path: Path) -> None:
    run = {"q1": [("d3", 2.5), ("d1", 1.25)], "q2": [("d9", 0.5)]}
    path = write_run(tmp_path / "runs" / "x.trec", run, tag="lore-keyword")
    rows = [line.split(" ") for line in path.read_text().splitlines()]
    assert len(rows) == 3
    assert all(len(row) == 6 and row[1] == "Q0" and row[5] == "lore-keyword" for row in rows)
    assert [(r[0], r[2], int(r[3])) for r in rows] == [("q1", "d3", 1), ("q1", "d1", 2),
                                                       ("q2", "d9", 1)]
    assert [float(r[4]) for r in rows] == [2.5, 1.25, 0.5]


def test_write_run_replaces_atomically_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("old\n")
    write_run(path, {"q": [("d", 1.0)]}, tag="t")
    assert path.read_text().startswith("q Q0 d 1 ")
    assert [p.name for p in tmp_path.iterdir()] == ["run.trec"]


@pytest.mark.parametrize("run, tag", [({"q": [("d 1", 1.0)]}, "t"), ({"q 1": []}, "t"),
                                       ({"q": []}, "my run")])
def test_whitespace_in_ids_or_tag_is_refused(run: dict[str, list[tuple[str, float]]],
                                             tag: str) -> None:
    with pytest.raises(ValueError, match="whitespace"):
        format_run_lines(run, tag)
