"""Filter checking: unknown keys and values are errors that say what exists."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lore.errors import QueryError
from lore.search.filters import check_filters, edit_distance, nearest, plausible_values

FIELDS = {"type": ["adr", "bug", "task", "userstory"],
          "state": ["done", "in progress", "inreview", "proposed"],
          "tags": ["cli", "search", "search-engine"]}
# How the files write some of them (the rest are written as stored).
WRITTEN = {"userstory": "UserStory", "in progress": "In Progress", "done": "Done"}


class Fields:
    """An in-memory FieldFacts."""

    def field_keys(self) -> list[str]:
        return sorted(FIELDS)

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        return [v for v in values if v not in FIELDS.get(key, [])]

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        return FIELDS[key][:limit], len(FIELDS[key])

    def field_spellings(self, key: str, values: Sequence[str]) -> dict[str, str]:
        return {v: WRITTEN.get(v, v) for v in values if v in FIELDS.get(key, [])}


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("tpye", "type", 1), ("tag", "tags", 1), ("stat", "state", 1), ("http", "path", 3),
    ("", "abc", 3), ("same", "same", 0)])
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_nearest_takes_one_edit_for_short_words_two_for_long() -> None:
    assert nearest("tpye", ["state", "type"]) == "type"
    assert nearest("http", ["path", "type"]) is None
    assert nearest("stauts", ["status"]) == "status"


def test_known_filters_pass_without_notes() -> None:
    checked = check_filters(Fields(), {"type": ["task"]}, explicit=(), colon_words=())
    assert (checked.filters, checked.notes, checked.notices) == ({"type": ["task"]}, [], [])


def test_unknown_explicit_key_suggests_and_lists_keys() -> None:
    with pytest.raises(QueryError) as err:
        check_filters(Fields(), {"tpye": ["task"]}, explicit={"tpye"}, colon_words=())
    message = str(err.value)
    assert "--filter tpye=" in message and "did you mean 'type'" in message.lower()
    assert "Known keys: state, tags, type." in message


def test_inline_near_miss_is_an_error_and_a_far_word_stays_text() -> None:
    with pytest.raises(QueryError, match="did you mean 'tags'"):
        check_filters(Fields(), {}, explicit=(), colon_words={"tag"})
    notes = check_filters(Fields(), {}, explicit=(), colon_words={"http"}).notes
    assert notes == ["http:… was searched as text: no document has a field 'http'."]


def test_a_value_nothing_resembles_lists_the_known_values() -> None:
    with pytest.raises(QueryError) as err:
        check_filters(Fields(), {"state": ["blocked"]}, explicit=(), colon_words=())
    assert "'blocked'" in str(err.value)
    assert "Known values of state: Done, In Progress, inreview, proposed." in str(err.value)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("type", "story", ["userstory"]),            # the parser's own type spelling
    ("type", "decision", ["adr"]),
    ("type", "user-story", ["userstory"]),
    ("state", "in-progress", ["in progress"]),   # same letters without separators
    ("state", "in_review", ["inreview"]),
    ("state", "progress", ["in progress"]),      # a word part
    ("state", "review", ["inreview"]),           # the end of a run-together part
    ("tags", "engine", ["search-engine"]),
    ("tags", "serch", ["search"]),               # one edit
    ("state", "doen", ["done"]),                 # a swap is one edit
    ("state", "proposd", ["proposed"]),
    ("type", "stories", ["userstory"]),          # a plural, made singular
    ("type", "user stories", ["userstory"]),
    ("type", "decisions", ["adr"]),
    ("state", "blocked", []),
    ("state", "do", []),                         # too short to be a part, two edits away
])
def test_plausible_values(key: str, value: str, expected: list[str]) -> None:
    assert plausible_values(key, value, FIELDS[key]) == expected


def test_an_unknown_value_is_matched_with_a_notice_and_known_values_are_kept() -> None:
    checked = check_filters(Fields(), {"type": ["story", "bug"], "state": ["in-progress"]},
                            explicit={"type"}, colon_words=())
    assert checked.filters == {"type": ["bug", "userstory"], "state": ["in progress"]}
    assert checked.notices == ["No document has type = 'story'; matched it to 'UserStory'.",
                               ("No document has state = 'in-progress'; matched it to "
                                "'In Progress'.")]
