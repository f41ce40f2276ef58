"""The one output helper: terminal control sequences never reach the terminal."""

from __future__ import annotations

import pytest

from lore._terminal import PIPED_WIDTH, output_width
from lore.cli._output import clean


@pytest.mark.parametrize("raw, expected", [
    ("title\x1b]52;c;ZWNobyBwd25lZA==\x07 end", "title end"),       # OSC 52, BEL-terminated
    ("a\x1b]52;c;AAAA\x1b\\b", "ab"),                                # OSC 52, ST-terminated
    ("a\x1b]0;window title", "a"),                                   # unterminated OSC
    ("\x1b[2J\x1b[1;31mred\x1b[0m", "red"),                          # CSI
    ("\x9b31mred\x9d8;;http://x\x9clink", "redlink"),                # C1 CSI / OSC / ST
    ("a\x1bPdcs payload\x1b\\b", "ab"),                              # DCS
    ("bell\x07 back\x08 nul\x00 del\x7f", "bell back nul del"),     # other controls
    ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
    ("ünïcode «marks» ok", "ünïcode «marks» ok"),
])
def test_clean_drops_control_sequences_and_characters(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_width_comes_from_columns_else_100_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    assert output_width() == 72
    monkeypatch.delenv("COLUMNS")
    assert output_width() == PIPED_WIDTH   # pytest captures stdout: not a terminal
