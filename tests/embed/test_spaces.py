"""ensure_same_space: vectors from two spaces are never compared unless forced."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from lore.embed.base import EmbeddingSpace
from lore.embed.spaces import ensure_same_space
from lore.errors import EmbedderMismatchError

INDEX = EmbeddingSpace(provider="onnx", model="all-MiniLM-L6-v2", revision="r1", dimensions=384)


def test_same_space_passes_as_object_or_id() -> None:
    ensure_same_space(INDEX, dataclasses.replace(INDEX))
    ensure_same_space(INDEX.id, INDEX)


@pytest.mark.parametrize("change", [{"dimensions": 256}, {"query_prefix": "query: "},
                                    {"precision": "int8"}, {"model": "bge-small"}])
def test_any_difference_is_refused_naming_both_and_the_fix(change: dict[str, object]) -> None:
    query = dataclasses.replace(INDEX, **change)  # type: ignore[arg-type]
    with pytest.raises(EmbedderMismatchError) as err:
        ensure_same_space(INDEX, query)
    message = str(err.value)
    assert INDEX.describe() in message and query.describe() in message
    assert "lore index --rebuild-vectors" in message and "--force" in message


def test_a_stored_id_is_named_when_only_the_id_is_known() -> None:
    query = dataclasses.replace(INDEX, dimensions=128)
    with pytest.raises(EmbedderMismatchError, match=INDEX.id):
        ensure_same_space(INDEX.id, query)


def test_force_compares_anyway_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    query = dataclasses.replace(INDEX, dimensions=128)
    with caplog.at_level(logging.WARNING, logger="lore.embed.spaces"):
        ensure_same_space(INDEX, query, force=True)
    assert "force" in caplog.text
