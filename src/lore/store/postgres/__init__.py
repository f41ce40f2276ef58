"""The PostgreSQL + pgvector backend of the ``Store`` protocol (team mode, ``lore[postgres]``)."""

from lore.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
