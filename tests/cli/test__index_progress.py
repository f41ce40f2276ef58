"""The embedding meter: rate and time left from a clock, without sleeping."""

from __future__ import annotations

import pytest

from lore.cli._index_progress import (
    LINE_EVERY_S,
    MEASURE_S,
    EmbedMeter,
    format_duration,
    piped_embed_progress,
)


def test_rate_and_eta_appear_once_measurable() -> None:
    now = [100.0]
    meter = EmbedMeter(clock=lambda: now[0])
    meter.update(0, 1000)
    now[0] += 1.0
    meter.update(32, 1000)
    assert meter.describe() == "32/1,000 chunks (3%)"       # too early to promise a time
    now[0] += MEASURE_S + 1.0                               # 5 s in, 200 done: 40 chunks/s
    meter.update(200, 1000)
    assert meter.describe() == "200/1,000 chunks (20%), 40.0 chunks/s, about 20s left"
    now[0] += 20.0
    meter.update(1000, 1000)
    assert meter.describe() == "1,000/1,000 chunks (100%) in 25s, 40.0 chunks/s"


def test_durations_read_like_a_clock() -> None:
    assert [format_duration(s) for s in (4.4, 185, 3725)] == ["4s", "3m05s", "1h02m"]


def test_piped_progress_gives_the_plan_then_an_early_estimate_then_a_line_now_and_then(
        capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    progress = piped_embed_progress(clock=lambda: now[0])
    progress(0, 5984)
    for done in range(32, 5985, 32):      # 32 chunks every 0.5 s: 64 chunks/s, 93.5 s in all
        now[0] += 0.5
        progress(done, 5984)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Embedding 5,984 chunks")
    # at 3 s, the first estimate: (5984 - 192) / 64 = 90.5 s left
    assert lines[1] == "  embedded 192/5,984 chunks (3%), 64.0 chunks/s, about 1m30s left"
    assert LINE_EVERY_S == 15
    assert len(lines) == 2 + 6 + 1       # then at 18, 33, ..., 93 s, and at the end
    assert lines[-1] == "  embedded 5,984/5,984 chunks (100%) in 1m34s, 64.0 chunks/s"
