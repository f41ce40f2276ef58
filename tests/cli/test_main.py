"""The ``lore`` group (``lore.cli``): lazy commands and did-you-mean."""

from __future__ import annotations

from click.testing import CliRunner

from lore.cli import COMMANDS, main


def test_a_mistyped_command_suggests_the_right_one() -> None:
    result = CliRunner().invoke(main, ["serach", "x"])
    assert result.exit_code == 2
    assert "No such command 'serach'" in result.output and "Did you mean 'search'?" in result.output
    far = CliRunner().invoke(main, ["zzzz"])
    assert far.exit_code == 2 and "Did you mean" not in far.output


def test_every_command_is_listed_and_has_help() -> None:
    listing = CliRunner().invoke(main, ["--help"]).output
    for name in COMMANDS:
        assert name in listing
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0
