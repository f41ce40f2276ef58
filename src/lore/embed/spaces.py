"""The rule that vectors from two embedding spaces are never compared.

Cosine similarity between vectors of different models (or of one model with
different prefixes or truncation) is a number without meaning, and search
would return confident garbage. Every place that puts a query vector next to
index vectors calls :func:`ensure_same_space` first.
"""

from __future__ import annotations

import logging

from lore.embed.base import EmbeddingSpace
from lore.errors import EmbedderMismatchError

logger = logging.getLogger(__name__)


def ensure_same_space(index_space: EmbeddingSpace | str, query_space: EmbeddingSpace, *,
                      force: bool = False) -> None:
    """Refuse to compare vectors from different embedding spaces.

    Args:
        index_space: the space the index was built in (or just its id, as stored).
        query_space: the space of the embedder about to be used.
        force: compare anyway (logged as a warning); results may be meaningless.

    Raises:
        EmbedderMismatchError: the spaces differ and ``force`` is false.
    """
    index_id = index_space if isinstance(index_space, str) else index_space.id
    if index_id == query_space.id:
        return
    index_label = index_space if isinstance(index_space, str) else index_space.describe()
    if force:
        logger.warning("comparing vectors across embedding spaces (index %s, query %s) "
                       "because force was requested; scores may be meaningless",
                       index_label, query_space.describe())
        return
    raise EmbedderMismatchError(
        f"the index's vectors are in space {index_label}, but the configured embedder "
        f"produces {query_space.describe()}. Rebuild the vectors with "
        f"`lore index --rebuild-vectors`, switch the embedder settings back, or pass "
        f"--force to search anyway"
    )
