"""Command-line words of a query that start with ``-``: exclusions, not unknown options.

A query says ``-draft`` to exclude documents containing "draft". Left to
click, ``-draft`` is an unknown option (or, worse, ``-d -r -a -f t``), and
the usual ``--`` escape swallows every option after it, so
``lore search -- -draft "release checklist" -n 4`` searched for "-n 4" too.
``QueryCommand`` instead reads each ``-word`` that is not one of the
command's options as a query word, before or after ``--``, so options keep
working anywhere on the line and ``--`` is never needed.
"""

from __future__ import annotations

import click

# Prefixed to a query word so click's parser sees an argument, not an option;
# removed again by ``query_words``. A private-use character: never typed.
_LITERAL = "\ue000"


class QueryCommand(click.Command):
    """A command whose variadic QUERY argument may hold ``-word`` exclusions."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._protect_query_words(ctx, args))

    def _protect_query_words(self, ctx: click.Context, args: list[str]) -> list[str]:
        """``args`` with ``--`` dropped and every non-option ``-word`` marked as a query word."""
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        out: list[str] = []
        expect_value = False
        for arg in args:
            if expect_value:
                out.append(arg)
                expect_value = False
            elif arg == "--":
                continue
            elif not arg.startswith("-") or arg == "-":
                out.append(arg)
            elif (name := arg.split("=", 1)[0]) in takes_value:
                out.append(arg)
                expect_value = takes_value[name] and "=" not in arg
            elif takes_value.get(arg[:2]) and not arg.startswith("--") and \
                    (arg[2:].isdigit() or "=" in arg):
                out.append(arg)    # a short option with its value attached: -n4, -ftype=ADR
            else:
                out.append(_LITERAL + arg)
        return out


def query_words(words: tuple[str, ...]) -> str:
    """The query text from the QUERY words of a ``QueryCommand``."""
    return " ".join(word.removeprefix(_LITERAL) for word in words)
