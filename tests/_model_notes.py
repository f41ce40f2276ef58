"""A folder of short notes indexed with one pulled model, for the model-marked search tests.

The calibration and cross-lingual tests each need a handful of notes searched
through a real embedding model with the cache off; this builds that index the
same way for both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lore.index import Index


@contextmanager
def notes_index(model: str, home: Path, notes: Mapping[str, tuple[str, str]],
                root: Path) -> Iterator[Index]:
    """``notes`` (file name -> (title, body)) written under ``root`` and synced with ``model``."""
    from lore.index import open_index
    from lore.settings import ProviderSettings, Settings

    for name, (title, body) in notes.items():
        (root / name).write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    base = Settings()
    settings = replace(base, embed=replace(
        base.embed, primary=ProviderSettings(model=model), cache=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LORE_HOME", str(home))
        with open_index(root, settings=settings) as opened:
            opened.sync()
            yield opened
