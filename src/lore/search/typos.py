"""Typo tolerance: a query word that matches nothing is also searched as its nearest
indexed word.

Without it a misspelt word ("sqllite") drops out of the keyword leg, and the
search answers from the other words alone ("No strong match"). Search boxes
people know (Elasticsearch's ``fuzziness: AUTO``, Meilisearch, Typesense) find
the word they meant; so does this, but only where it cannot hurt:

- **Only an unmatched word.** A word is compared by its index token (stemmed
  and folded as the keyword leg reads it, ``SearchReads.unmatched_words``); a
  word whose token some document holds is never touched, so a query without a
  typo ranks exactly as before and pays one token probe. The typed word stays
  in the keyword terms (it matches nothing, so it costs nothing).
- **Only a plain word.** Words of letters only, four or more of them: no
  number, id, code, prefix word (``embed*``), quoted phrase or exclusion is
  corrected, and no stopword.
- **Never a real word.** A word of the English word list
  (``lore.search.lexicon``) is a word the corpus lacks, not a typo: on kano,
  "complaints", "phone" and "though" are not searched as their nearest
  tokens "compliant", "prone" and "through". The list is read only for a
  word no document holds.
- **Distance by length** (``max_edits``): 1 edit for 4-7 letters, 2 for 8 or
  more, counted as optimal string alignment (a swapped pair is one edit).
  This is Elasticsearch's ``AUTO:4,8`` rather than its default ``AUTO:3,6``:
  three-letter words have too many one-edit neighbours (cat, car, bat, cut) to
  guess which was meant, and a six- or seven-letter token two edits away from
  a word is often another real word ("protein" / "proteins" are one stem, but
  "cancer" / "dancer" are not). Nothing longer than ``LONGEST_WORD`` (48)
  letters is a word to correct.
- **The nearest, then the commonest.** Among the tokens within reach the
  nearest wins, then the one more documents hold (the usual spelling), as
  SymSpell and most spell checkers rank them. One replacement per word.

The reader is told (``Correction.notice``: 'Searched "sqlite" for "sqllite".'),
in text, JSON, ``SearchResult.notices`` and ``--explain``. The vocabulary's
edit-distance index (``lore.search.typo_index``) is a catalog fact: built once
per catalog state, and only when a query has an unmatched word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from lore.documents.cjk import has_cjk
from lore.search.fts import STOPWORDS
from lore.search.lexicon import is_english_word
from lore.search.query import ParsedQuery
from lore.search.typo_index import LONGEST_WORD, TermIndex
from lore.store.base import SearchReads

MIN_LETTERS = 4          # shorter words are never corrected
TWO_EDITS_FROM = 8       # words this long may be two edits off
CANDIDATES_TRIED = 5     # nearest tokens whose spelling is checked, per word
FACT = "typo_vocabulary"
# Whether the vector leg embeds the corrected words instead of the typed ones; chosen on
# the typo bench (bench/typo_bench.py, docs/decisions/typo-tolerance.md).
EMBED_CORRECTED = False


@dataclass(frozen=True)
class Correction:
    """A typed word that matched nothing, and the indexed word searched for it."""

    word: str
    replacement: str

    def notice(self) -> str:
        """What the reader is told."""
        return f'Searched "{self.replacement}" for "{self.word}".'


def max_edits(word: str) -> int:
    """How many edits away from ``word`` (an index token, or a typed word) a correction
    may be (0: never corrected)."""
    if not MIN_LETTERS <= len(word) <= LONGEST_WORD:
        return 0
    return 1 if len(word) < TWO_EDITS_FROM else 2


def correctable(word: str) -> bool:
    """Whether ``word`` (a bare query term) may be corrected: letters only (no digit,
    hyphen, prefix star or id shape), long enough, not CJK, not a stopword."""
    return (max_edits(word) > 0 and word.isalpha() and not has_cjk(word)
            and word.lower() not in STOPWORDS)


def find_corrections(store: SearchReads, parsed: ParsedQuery) -> list[Correction]:
    """The corrections of ``parsed``'s unmatched bare words that are no English word, in
    query order.

    A word is replaced by a spelling of its nearest token that the index reads
    as that token: the typed word's ending on the new stem ("convens" ->
    "convent" makes "convension" "convention"), else the token itself; a token
    no spelling reaches is passed over for the next nearest.
    """
    words = [w for w in dict.fromkeys(parsed.terms) if correctable(w)]
    typed = store.unmatched_words(words) if words else {}
    unmatched = {word: token for word, token in typed.items() if not is_english_word(word)}
    if not unmatched:
        return []
    index = store.catalog_fact(FACT, lambda: TermIndex.build(store.token_vocabulary()))
    tried: dict[str, list[tuple[str, str]]] = {}
    for word, token in unmatched.items():
        near = index.nearest(token, max_edits(token))[:CANDIDATES_TRIED]
        tried[word] = [(c.token, spelling) for c in near
                       for spelling in _spellings(word.lower(), token, c.token)]
    read = store.word_tokens(sorted({s for pairs in tried.values() for _, s in pairs}))
    found: list[Correction] = []
    for word in words:
        spelling = next((s for token, s in tried.get(word, ()) if read.get(s) == token), None)
        if spelling is not None:
            found.append(Correction(word, spelling))
    return found


def corrected_query(parsed: ParsedQuery, corrections: Sequence[Correction]) -> ParsedQuery:
    """``parsed`` with each corrected bare word replaced (terms, and the embedded text
    when ``EMBED_CORRECTED``); phrases and exclusions stay as typed."""
    if not corrections:
        return parsed
    by_word = {c.word: c.replacement for c in corrections}
    terms = [by_word.get(term, term) for term in parsed.terms]
    positive = parsed.positive
    if EMBED_CORRECTED:
        pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in by_word) + r")(?!\w)")
        positive = pattern.sub(lambda m: by_word[m.group(1)], positive)
    return replace(parsed, terms=terms, positive=positive)


def _spellings(word: str, token: str, candidate: str) -> list[str]:
    """Ways to write ``candidate`` as the user would have: ``word`` with its stem
    (``token``) swapped for the candidate's, then the candidate token itself."""
    out = [candidate + word[len(token):]] if word.startswith(token) else []
    return [*out, candidate] if candidate not in out else out
