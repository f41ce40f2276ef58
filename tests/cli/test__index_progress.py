"""The embedding meter: rate and time left from a clock, without sleeping."""

from __future__ import annotations

from lore.cli._index_progress import MEASURE_S, EmbedMeter, format_duration


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
