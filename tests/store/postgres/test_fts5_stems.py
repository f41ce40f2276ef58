"""PostgreSQL's words and stems are FTS5's: ``fold.words`` cuts text as
``unicode61 remove_diacritics 2`` does, ``porter.stem`` stems as FTS5's ``porter``.
Expected values come from the running sqlite's FTS5, never from the code under test."""

from __future__ import annotations

import gzip
import random
import sqlite3
import string
from importlib import resources

import pytest

from lore.store.postgres import fold
from lore.store.postgres.porter import stem

# Where Snowball's porter (PostgreSQL, PyStemmer) and FTS5's part: short tokens, the later
# -logi/-bli rules, folds (µ is μ, a combining accent inside its word), ids, numbers, CJK.
EDGES = ["ms", "MS", "vs", "5s", "1990s", "Pathology", "pathologies", "terminology",
         "incredibly", "accessibly", "µm", "15µm", "Café", "naïve", "e\u0301tude", "ĳssel",
         "TNF-α", "IL6", "TSK-0042", "foo_bar", "重構計画の話", "溫柔提醒", "한국어", "x" * 70,
         "a" * 62 + "ing", "a" * 61 + "ing", "aing", "ying", "agreed", "hopping", "filing",
         "sky", "happy", "Relational", "CONDITIONAL", "rational", "hopeful", "goodness",
         "electricity", "adjustable", "irritant", "controll", "roll", "cease", "a丸ing"]


def fts5_tokens(texts: list[str], tokenize: str) -> list[list[str]]:
    """Each text's tokens, in order, as FTS5 with ``tokenize`` indexes it."""
    db = sqlite3.connect(":memory:")
    db.text_factory = lambda raw: raw.decode("utf-8", errors="replace")  # "a丸ing": a cut letter
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{tokenize}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(texts, 1))
    out: list[list[str]] = [[] for _ in texts]
    for term, row, _ in db.execute("SELECT term, doc, offset FROM v ORDER BY doc, offset"):
        out[row - 1].append(term)
    db.close()
    return out


def _random_words(n: int) -> list[str]:
    rng = random.Random(5)
    letters = "aeiouy" * 3 + string.ascii_lowercase
    endings = ["", "s", "es", "ies", "ed", "ing", "ational", "izer", "bli", "logi", "ness",
               "ful", "ement", "ion", "ate", "ive", "ize", "ll", "e", "y", "sses", "eed"]
    return ["".join(rng.choice(letters) for _ in range(rng.randint(0, 9))) + rng.choice(endings)
            for _ in range(n)]


def test_stems_equal_fts5_porters_on_an_english_dictionary_and_random_words() -> None:
    listed = resources.files("lore.search").joinpath("data/english-words.txt.gz").read_bytes()
    vocabulary = [*gzip.decompress(listed).decode().split(), *_random_words(20_000)]
    expected = fts5_tokens(vocabulary, "porter unicode61 remove_diacritics 2")
    wrong = [(w, e, [stem(t) for t in fold.words(w)]) for w, e in zip(vocabulary, expected)
             if [stem(t) for t in fold.words(w)] != e]
    assert not wrong, wrong[:20]


def test_texts_cut_fold_and_stem_as_fts5s() -> None:
    texts = [*EDGES, " ".join(EDGES), "Ms. Pathology vs. TERMINOLOGY: 15 µm, 1990s; 重構"]
    expected = fts5_tokens(texts, "porter unicode61 remove_diacritics 2")
    assert [[stem(t) for t in fold.words(text)] for text in texts] == expected
    assert expected[0] == ["ms"] and expected[5] == ["patholog"] and expected[10] == ["μm"]


def test_every_basic_plane_character_folds_as_unicode61s() -> None:
    """The shipped table is what this sqlite's unicode61 does (``python -m
    lore.store.postgres.fold`` rewrites it when sqlite's Unicode tables move)."""
    table = fold.table()
    swept = fold.sweep(0x80, 0xFFFF)
    wrong = {hex(c): (want, table.get(c, chr(c))) for c, want in swept.items()
             if table.get(c, chr(c)) != (fold.SEPARATOR if want is None else want)}
    assert not wrong, list(wrong.items())[:20]
    assert "µ".lower() != swept[0xB5] == "μ"      # not Python's lower()


@pytest.mark.parametrize("seed", range(3))
def test_random_unicode_text_cuts_as_unicode61s(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in (*range(0x20, 0x250), *range(0x300, 0x370), *range(0x370, 0x400),
                                 0x2000, 0x3000, 0x4E00, 0x6A9A, 0xAC00, 0xFF21, 0x1D400)]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(500)]
    assert [fold.words(t) for t in texts] == fts5_tokens(texts, "unicode61 remove_diacritics 2")
