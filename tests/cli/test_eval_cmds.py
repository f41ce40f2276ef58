"""`lore eval` through click's CliRunner on the tiny BEIR set."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lore.cli import main
from lore.eval.runner import latency_conditions


def test_table_output(tiny_beir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["eval", str(tiny_beir), "--mode", "keyword",
                                       "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny-beir (test): 5 documents")
    header = lines[1].split()
    assert header[:5] == ["mode", "queries", "nDCG@10", "Recall@100", "MRR@10"]
    row = dict(zip(header, lines[2].split()))
    assert row["mode"] == "keyword" and row["queries"] == "5"
    assert float(row["nDCG@10"]) == 1.0
    assert (tmp_path / "w" / "runs" / "test.keyword.trec").is_file()
    latency = next(line for line in lines if line.startswith("latency: "))
    assert "keyword mode (no query embedded)" in latency and "embedded anew" not in latency


def test_json_output_and_run_file(tiny_beir: Path, tmp_path: Path) -> None:
    run_file = tmp_path / "run.trec"
    result = CliRunner().invoke(main, ["eval", str(tiny_beir), "--mode", "keyword", "--json",
                                       "--run-file", str(run_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dataset"] == "tiny-beir" and data["split"] == "test"
    keyword = data["modes"]["keyword"]
    assert keyword["queries"] == 5 and keyword["ndcg@10"] == 1.0
    assert keyword["run_file"] == str(run_file)
    assert "embedded anew" not in data["latency_conditions"]
    assert len(run_file.read_text().splitlines()) >= 5


def test_missing_split_is_a_clean_error(tiny_beir: Path) -> None:
    result = CliRunner().invoke(main, ["eval", str(tiny_beir), "--mode", "keyword",
                                       "--split", "dev"])
    assert result.exit_code == 1
    assert "split 'dev'" in result.output and "test, train" in result.output
    assert "Traceback" not in result.output


def test_usage_errors(tiny_beir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["eval", str(tiny_beir), "--mode", "semantic"]).exit_code == 2
    assert runner.invoke(main, ["eval", str(tiny_beir / "absent")]).exit_code == 2


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["eval", "--help"])
    assert result.exit_code == 0
    assert "lore eval" in result.output and "--mode" in result.output


def test_latency_conditions_name_the_modes_that_embed() -> None:
    both = latency_conditions(["keyword", "vector", "hybrid"])
    assert "embedded anew in vector and hybrid mode" in both and "model" in both
    assert "embedded anew in hybrid mode" in latency_conditions(["hybrid"])
    assert "model" not in latency_conditions(["keyword"])
