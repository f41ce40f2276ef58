"""Build a safe FTS5 MATCH expression from any parsed query.

Every token is emitted as an FTS5 string (double quotes, inner quotes
doubled, as sqlite-utils' ``quote_fts`` does), so nothing a user types can be
read as FTS5 syntax: ``AND``/``OR``/``NOT``/``NEAR``, ``-``, ``^``, ``:``,
parentheses and stray quotes are all just text. The only operators in the
output are the ones this module writes.

Shape of the expression, for natural-language queries:

- positive terms and phrases are OR-ed, so BM25 ranks documents by how many
  and which terms they contain rather than demanding all of them;
- a repeated word stays repeated: BM25 counts each occurrence of a query
  term, as every BM25 does (Lucene, bm25s); on long natural-language queries
  the repetition is how a question says what it is about (CISI: nDCG@10 0.345
  with repeats dropped, 0.399 with them kept; ``docs/decisions/keyword-scoring.md``);
- CJK runs (Chinese, Japanese, Korean, written without spaces) become the
  phrase of their character bigrams, a single character a prefix term
  (``lore.documents.cjk``), so a word inside an unspaced sentence is found;
  Traditional Chinese characters are folded to Simplified first, as the
  index's CJK column is, so either script finds the other;
- English stopwords are dropped from bare terms (kept inside phrases), unless
  every bare term is a stopword ("to be or not to be" still searches);
- ``word*`` becomes a prefix query;
- exclusions get their own expression (``build_exclusion``): the engine
  removes every *document* with a chunk that matches it, because "-sqlite"
  means "not about sqlite", and a chunk-level ``NOT`` would still return the
  other chunks of a document that mentions it.

``build_match`` returns ``None`` when nothing searchable is left (empty,
blank, punctuation or emoji only, exclusions only): the caller then runs no
keyword leg.
"""

from __future__ import annotations

from collections.abc import Sequence

from lore.documents.cjk import run_bigrams, split_cjk
from lore.documents.hanfold import fold_han
from lore.search.query import ParsedQuery, has_word_chars

# Past this many alternatives an OR query mostly costs time: BM25 work grows
# with every term while the ranking barely changes.
MAX_TERMS = 64

STOPWORDS: frozenset[str] = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just",
    "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
    "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
})


def quote_fts(token: str) -> str:
    """``token`` as one FTS5 string: wrapped in double quotes, inner quotes doubled."""
    return '"' + token.replace('"', '""') + '"'


def match_terms(parsed: ParsedQuery) -> list[str]:
    """The positive alternatives of ``parsed`` as FTS5 strings (what ``build_match`` ORs).

    Args:
        parsed: output of ``lore.search.query.parse_query``.
    """
    positive = [*_keep_terms(parsed.terms), *(_phrase(p) for p in parsed.phrases)]
    return positive[:MAX_TERMS]


def proximity_pairs(parsed: ParsedQuery) -> list[str]:
    """Each two neighbouring content words of the query's bare terms, as one FTS5 phrase.

    Term proximity (sequential dependence): a document that writes two of the
    query's words side by side, in its order, is more likely about what the
    query says than one using both words apart, and long natural-language
    queries (SciFact's claims) hold many such pairs. Stopwords between the two
    words are skipped, as in the keyword terms; a prefix word or a CJK run
    (matched inside longer tokens) ends the chain.
    """
    out: list[str] = []
    last: str | None = None
    for word in parsed.terms:
        if not has_word_chars(word) or word.lower() in STOPWORDS:
            continue
        plain = "*" not in word and not any(cjk for _, cjk in split_cjk(word))
        if last is not None and plain:
            out.append(quote_fts(f"{last} {word}"))
        last = word if plain else None
    return out[:MAX_TERMS]


def build_match(parsed: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression for ``parsed``, or ``None`` if nothing is searchable.

    Args:
        parsed: output of ``lore.search.query.parse_query``.

    Returns:
        An expression that FTS5 always accepts, or ``None``.
    """
    return or_expression(match_terms(parsed))


def or_expression(terms: Sequence[str]) -> str | None:
    """FTS5 strings joined with OR, or ``None`` for no strings."""
    return " OR ".join(terms) or None


def exclusion_terms(parsed: ParsedQuery) -> list[str]:
    """The excluded words and phrases as FTS5 strings (a document matching any is dropped).

    Stopwords are kept: someone who types ``-the`` asked for it.
    """
    return _dedupe([term for t in parsed.excluded if has_word_chars(t)
                    for term in _term(t)])[:MAX_TERMS]


def build_exclusion(parsed: ParsedQuery) -> str | None:
    """An FTS5 expression matching any excluded word or phrase, or ``None``."""
    return or_expression(exclusion_terms(parsed))


def _keep_terms(terms: list[str]) -> list[str]:
    """Bare terms as FTS5 strings, stopwords dropped unless nothing else is left."""
    searchable = [t for t in terms if has_word_chars(t)]
    content = [t for t in searchable if t.lower() not in STOPWORDS]
    return [term for t in (content or searchable) for term in _term(t)]


def _term(token: str) -> list[str]:
    """One bare token as FTS5 strings: a trailing ``*`` kept as a prefix query, each
    CJK run inside it as its own term (``lore.documents.cjk``)."""
    star = token.endswith("*") and has_word_chars(token.rstrip("*"))
    core = token.rstrip("*")
    pieces = [(p, cjk) for p, cjk in split_cjk(core) if has_word_chars(p)]
    terms = [_cjk_term(p) if cjk else quote_fts(p) for p, cjk in pieces]
    if star and terms and not pieces[-1][1]:
        terms[-1] += "*"
    return terms


def _phrase(text: str) -> str:
    """A quoted phrase as one FTS5 string; a CJK-only phrase spelled as its folded bigrams.

    A phrase mixing scripts stays as typed, unfolded: its CJK run then has to
    be a whole token of the body column, which holds the text as written,
    since no column holds both scripts' words in sequence.
    """
    pieces = [(p, cjk) for p, cjk in split_cjk(text) if has_word_chars(p)]
    if pieces and all(cjk for _, cjk in pieces):
        return quote_fts(" ".join(" ".join(run_bigrams(fold_han(p))) for p, _ in pieces))
    return quote_fts(text)


def _cjk_term(run: str) -> str:
    """A CJK run as the phrase of its folded bigrams; one character as a prefix of the bigrams."""
    folded = fold_han(run)
    if len(folded) == 1:
        return quote_fts(folded) + "*"
    return quote_fts(" ".join(run_bigrams(folded)))


def _dedupe(items: list[str]) -> list[str]:
    """``items`` without repeats (case-insensitive), first occurrence kept."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
