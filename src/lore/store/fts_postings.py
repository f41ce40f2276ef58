"""One FTS5 table's index, copied into numpy arrays, and FTS5's ``bm25()`` over it.

``lore.store.bm25_memory`` answers keyword rankings from two of these instead
of asking FTS5, because FTS5 spends most of a query's time outside the
arithmetic: ``bm25()`` looks up each matching row's size in ``%_docsize``, and
every matching row of both tables crosses into SQLite's VM. Here a term is a
slice of a postings array and a query is a few vector operations.

The copy is built from FTS5's own tokens (the ``fts5vocab`` *instance* table:
term, row, column, offset), its own row sizes (``%_docsize``) and its own
totals (the averages record), so a term matches exactly the rows FTS5 would
match and every number FTS5's ``bm25()`` uses is the same number. The
arithmetic follows ``fts5Bm25Function`` (``fts5_aux.c``) operation by
operation, so the scores are the same doubles:

- ``idf = log((N - n + 0.5) / (n + 0.5))``, floored at 1e-6, where ``N`` is
  the table's rows and ``n`` the rows matching the phrase;
- per row, ``freq`` = the sum of the column weights over the phrase's
  instances in the row; ``D`` = the row's tokens over all columns;
  ``avgdl`` = all tokens / ``N``;
- ``score += idf * (freq * (k1 + 1)) / (freq + k1 * (1 - b + b * D / avgdl))``
  for each phrase of the query in order (a phrase that does not occur in a row
  adds exactly 0, so summing only where it occurs is the same sum).

``freq`` is computed as ``count * weight`` per column rather than by repeated
addition; that is the same double only when every partial sum is exact, which
``exact_weights`` checks (weights that are multiples of 1/1024, as lore's
integer defaults are); other weights are left to FTS5.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from lore.store.bm25 import K1, B, fts5_idf

STRUCTURE_ROWID = 10   # FTS5's %_data rows: the segment structure (changes on every write)
AVERAGES_ROWID = 1     # ... and the row count and token totals per column
_ROW_SHIFT = 32        # a token position as one int64: row << 32 | column << 26 | offset
_COLUMN_SHIFT = 26
MAX_PHRASE = 1024      # longer phrases are left to FTS5: a shifted position must stay in its column
_MAX_OFFSET = (1 << _COLUMN_SHIFT) - MAX_PHRASE

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def exact_weights(weights: tuple[float, ...]) -> bool:
    """Whether ``count * weight`` sums are exact doubles (so equal to FTS5's running sums)."""
    return all(math.isfinite(w) and abs(w) < 2 ** 20 and (w * 1024).is_integer()
               for w in weights)


def read_varints(blob: bytes) -> list[int]:
    """SQLite's 1-9 byte varints (FTS5 writes its sizes and totals in them)."""
    values, at = [], 0
    while at < len(blob):
        value = 0
        for i in range(9):
            byte = blob[at]
            at += 1
            if i == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        values.append(value)
    return values


@dataclass(frozen=True)
class Phrase:
    """The rows a phrase occurs in (dense row numbers, ascending), its weighted
    frequency in each, and its IDF."""

    rows: Ints
    freq: Floats
    idf: float


@dataclass
class Postings:
    """One FTS5 table as arrays; row numbers are dense (0..N-1) in rowid order.

    Attributes:
        name: the FTS5 table.
        columns: its column names, in order.
        rowids: the rowid of each dense row (ascending, so ties by rowid are
            ties by dense row number).
        norm: ``k1 * (1 - b + b * D / avgdl)`` per row, as FTS5 computes it.
        total_rows: ``N`` (FTS5's averages record).
        terms: the vocabulary, sorted as FTS5 sorts it (by UTF-8 bytes).
        term_ptr: postings of term ``t`` are ``post_rows[term_ptr[t]:term_ptr[t + 1]]``.
        post_rows: dense row of each (term, row) pair.
        post_counts: instances per column of each (term, row) pair.
        inst_ptr: positions of term ``t`` are ``positions[inst_ptr[t]:inst_ptr[t + 1]]``.
        positions: each instance as ``row << 32 | column << 26 | offset``, ascending per term.
    """

    name: str
    columns: tuple[str, ...]
    rowids: Ints
    norm: Floats
    total_rows: int
    terms: list[str]
    term_ptr: Ints
    post_rows: Ints
    post_counts: npt.NDArray[np.int32]
    inst_ptr: Ints
    positions: Ints
    term_index: dict[str, int] = field(init=False, repr=False)
    _weighted: dict[tuple[float, ...], Floats] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.term_index = {term: i for i, term in enumerate(self.terms)}
        self._weighted = {}

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (the vocabulary strings add about 100 bytes a term)."""
        arrays = (self.rowids, self.norm, self.term_ptr, self.post_rows, self.post_counts,
                  self.inst_ptr, self.positions)
        return sum(a.nbytes for a in arrays) + 100 * len(self.terms)

    def weighted(self, weights: tuple[float, ...]) -> Floats:
        """``freq`` of every (term, row) pair for these column weights (kept for reuse)."""
        found = self._weighted.get(weights)
        if found is None:
            found = np.zeros(len(self.post_rows), dtype=np.float64)
            for column, weight in enumerate(weights):
                found += self.post_counts[:, column] * weight
            if len(self._weighted) >= 4:
                self._weighted.clear()
            self._weighted[weights] = found
        return found

    def phrase(self, tokens: list[str], prefix: bool,
               weights: tuple[float, ...]) -> Phrase:
        """Where ``tokens`` occur in sequence (the last one as a prefix when ``prefix``)."""
        if prefix:
            return self._prefix(tokens[0], weights)
        if len(tokens) == 1:
            t = self.term_index.get(tokens[0])
            if t is None:
                return self._phrase_of(np.empty(0, dtype=np.int64), weights)
            lo, hi = int(self.term_ptr[t]), int(self.term_ptr[t + 1])
            rows = self.post_rows[lo:hi]
            return Phrase(rows, self.weighted(weights)[lo:hi], self._idf(len(rows)))
        starts = self._positions(tokens[0])
        for shift, token in enumerate(tokens[1:], start=1):
            if not len(starts):
                break
            starts = _followed(starts, self._positions(token), shift)
        return self._phrase_of(starts, weights, ascending=True)

    def _prefix(self, start: str, weights: tuple[float, ...]) -> Phrase:
        """Every term that begins with ``start``: their positions, one phrase."""
        lo = _bisect(self.terms, start)
        hi = lo
        while hi < len(self.terms) and self.terms[hi].startswith(start):
            hi += 1
        if hi - lo == 1:
            return self.phrase([self.terms[lo]], False, weights)
        keys = self.positions[int(self.inst_ptr[lo]):int(self.inst_ptr[hi])]
        return self._phrase_of(keys, weights)

    def _positions(self, token: str) -> Ints:
        t = self.term_index.get(token)
        if t is None:
            return np.empty(0, dtype=np.int64)
        return self.positions[int(self.inst_ptr[t]):int(self.inst_ptr[t + 1])]

    def _phrase_of(self, keys: Ints, weights: tuple[float, ...], *,
                   ascending: bool = False) -> Phrase:
        """A phrase from its instances' positions (any order; ``ascending``: sorted,
        which saves sorting them again)."""
        if not len(keys):
            return Phrase(np.empty(0, dtype=np.int64), np.empty(0), self._idf(0))
        rows = keys >> _ROW_SHIFT
        columns = (keys >> _COLUMN_SHIFT) & ((1 << (_ROW_SHIFT - _COLUMN_SHIFT)) - 1)
        per_column = np.asarray(weights, dtype=np.float64)[columns]
        if ascending:   # each row's instances are one run: sum the runs in order
            first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            return Phrase(rows[first], np.add.reduceat(per_column, first),
                          self._idf(len(first)))
        found, inverse = np.unique(rows, return_inverse=True)
        freq = np.asarray(np.bincount(inverse, weights=per_column, minlength=len(found)),
                          dtype=np.float64)
        return Phrase(found, freq, self._idf(len(found)))

    def _idf(self, hits: int) -> float:
        return fts5_idf(self.total_rows, hits)


def _followed(starts: Ints, later: Ints, shift: int) -> Ints:
    """Those of ``starts`` (ascending) with ``start + shift`` in ``later`` (ascending).

    Binary search of the shorter array in the longer: a query's word pairs
    often hold a common word, whose positions are a large part of the table.
    """
    if len(starts) <= len(later):
        wanted, among = starts + shift, later
    else:
        wanted, among = later - shift, starts
    if not len(among):
        return among
    at = np.minimum(np.searchsorted(among, wanted), len(among) - 1)
    found = wanted[among[at] == wanted]
    return found - shift if among is later else found


def _bisect(terms: list[str], start: str) -> int:
    lo, hi = 0, len(terms)
    while lo < hi:
        mid = (lo + hi) // 2
        if terms[mid] < start:
            lo = mid + 1
        else:
            hi = mid
    return lo


def table_tokens(conn: sqlite3.Connection, name: str) -> int:
    """All tokens of an FTS5 table (its averages record), what a copy of it would hold."""
    row = conn.execute(f"SELECT block FROM {name}_data WHERE id = ?",
                       (AVERAGES_ROWID,)).fetchone()
    return sum(read_varints(bytes(row[0]))[1:]) if row else 0


def load_postings(conn: sqlite3.Connection, name: str) -> Postings | None:
    """Copy FTS5 table ``name`` into arrays; run inside one read transaction.

    Returns ``None`` when the table cannot be copied exactly (a column of
    more than 2**26 - ``MAX_PHRASE`` tokens, a rowid outside 0..2**31, a token
    of a row without a size).
    """
    columns = tuple(str(r[1]) for r in conn.execute(f"PRAGMA table_info({name})"))
    averages = conn.execute(f"SELECT block FROM {name}_data WHERE id = ?",
                            (AVERAGES_ROWID,)).fetchone()
    # A table never written has an empty averages record: no rows, no tokens.
    totals = (read_varints(bytes(averages[0])) if averages else []) or [0]
    sizes = conn.execute(f"SELECT id, sz FROM {name}_docsize ORDER BY id").fetchall()
    rowids = np.array([r[0] for r in sizes], dtype=np.int64)
    if len(rowids) and (int(rowids.min()) < 0 or int(rowids.max()) >= 1 << 31):
        return None   # packed below as rowid << 32
    lengths = np.array([sum(read_varints(bytes(r[1]))) for r in sizes], dtype=np.float64)
    # FTS5's avgdl; with no token at all no row can match, and any norm will do.
    avgdl = float(sum(totals[1:])) / float(totals[0]) if totals[0] else 0.0
    norm = K1 * (1 - B + B * lengths / avgdl) if avgdl > 0 else np.zeros(len(rowids))
    vocab = f"temp.lore_vocab_{name}"
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocab} USING fts5vocab(main, {name},"
                 " instance)")
    # One row per term, its instances packed as text: Python touches ~30 k rows,
    # not ~1 M (a tuple per instance took seconds).
    column_index = " ".join(f"WHEN ? THEN {i}" for i in range(len(columns)))
    try:
        rows = conn.execute(
            f"SELECT term, group_concat(doc * {1 << _ROW_SHIFT} + (CASE col {column_index}"
            f" END) * {1 << _COLUMN_SHIFT} + offset) FROM {vocab} GROUP BY term ORDER BY term",
            columns).fetchall()
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {vocab}")
    terms = [str(term) for term, _ in rows]
    sizes_per_term = [packed.count(",") + 1 for _, packed in rows]
    packed_keys = np.fromstring(",".join(p for _, p in rows), dtype=np.int64, sep=",") \
        if rows else np.empty(0, dtype=np.int64)
    del rows
    offsets = packed_keys & ((1 << _COLUMN_SHIFT) - 1)
    if len(offsets) and int(offsets.max()) >= _MAX_OFFSET:
        return None
    keys = packed_keys & ((1 << _ROW_SHIFT) - 1)
    doc = packed_keys >> _ROW_SHIFT
    dense = np.searchsorted(rowids, doc)
    if len(dense) and (int(dense.max()) >= len(rowids) or np.any(rowids[dense] != doc)):
        return None   # a token of a row FTS5 keeps no size for: not a table copied exactly
    positions = dense << _ROW_SHIFT | keys
    starts = np.r_[0, np.cumsum(sizes_per_term)[:-1]] if terms else np.empty(0, np.int64)
    inst_ptr = np.r_[starts, len(keys)].astype(np.int64)
    term_of = np.repeat(np.arange(len(terms), dtype=np.int64), np.diff(inst_ptr))
    order = np.lexsort((positions, term_of))   # FTS5's order already; made certain
    positions, term_of = positions[order], term_of[order]
    pair = term_of << _ROW_SHIFT | positions >> _ROW_SHIFT
    first = np.flatnonzero(np.diff(pair, prepend=-1))
    post_rows = positions[first] >> _ROW_SHIFT
    group = np.repeat(np.arange(len(first), dtype=np.int64), np.diff(np.r_[first, len(pair)]))
    column = (positions >> _COLUMN_SHIFT) & ((1 << (_ROW_SHIFT - _COLUMN_SHIFT)) - 1)
    counts = np.bincount(group * len(columns) + column, minlength=len(first) * len(columns)
                         ).astype(np.int32).reshape(len(first), len(columns))
    term_ptr = np.searchsorted(term_of[first], np.arange(len(terms) + 1)).astype(np.int64)
    return Postings(name, columns, rowids, norm, int(totals[0]), terms, term_ptr, post_rows,
                    counts, inst_ptr, positions)
