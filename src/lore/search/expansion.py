"""Keyword-leg query expansion from the corpus' own vocabulary (RM3-like feedback).

A paraphrase shares few words with its answer, but the answer's vocabulary is
often in the documents a first fused ranking already finds (the vector leg
reads meaning, not words). So after the first fusion the top ``documents``
hits lend their words: each word scores its length-normalised frequency in
those documents times its IDF in the index (``SearchReads.term_weights``),
stopwords, numbers and the query's own words left out, and the best ``terms``
become a second keyword query. Its BM25 scores, times ``weight``, are added to
the original keyword scores (``expanded_leg``) and the legs are fused again.

Only a query whose keyword leg is weak is expanded: when the best keyword
document holds at least ``search.expansion_below`` of the query's IDF-weighted
terms, the words already find the answer and borrowed ones only drift.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from lore.search.fts import STOPWORDS, quote_fts
from lore.search.fusion import LegResult
from lore.search.keyword import keyword_leg
from lore.settings import Settings
from lore.store.base import Restriction, SearchReads

_WORD = re.compile(r"[^\W\d_]{3,}")
PREFIX = 5          # words sharing this many leading letters count as one (a crude stem)
POOL = 3            # how many times ``terms`` candidates are weighed by IDF


def expand_keyword_leg(store: SearchReads, terms: Sequence[str],
                       restriction: Restriction | None, legs: list[LegResult],
                       owners: Mapping[int, int], *, feedback: Sequence[int],
                       settings: Settings, candidates: int,
                       per_document: bool) -> tuple[list[LegResult], dict[int, int]]:
    """``legs`` with the keyword leg expanded, and ``owners`` extended to its new chunks.

    Args:
        store: the index's store.
        terms: the query's keyword terms.
        restriction: the query's document restriction (the expansion obeys it too).
        legs: the first pass's legs; unchanged when there is no keyword leg or no word
            to add.
        owners: chunk id -> document id for every chunk of ``legs``.
        feedback: the first fused ranking's documents, best first (repeats allowed);
            the first ``search.expansion_documents`` distinct ones lend their words.
        settings: ``search.expansion_*`` and the keyword leg's column weights.
        candidates: how many the expanded keyword leg keeps.
        per_document: the keyword leg ranks documents (False: chunks).
    """
    s = settings.search
    index = next((i for i, leg in enumerate(legs) if leg.name == "keyword"), None)
    if index is None:
        return legs, dict(owners)
    chosen = list(dict.fromkeys(feedback))[:s.expansion_documents]
    chunks = store.document_chunks(chosen)
    texts = store.chunk_texts([cid for cid, _ in chunks])
    by_document: dict[int, list[str]] = {}
    for cid, doc in chunks:
        by_document.setdefault(doc, []).append(texts.get(cid, ""))
    words = expansion_terms(store, terms, [" ".join(t) for t in by_document.values()],
                            terms=s.expansion_terms)
    if not words:
        return legs, dict(owners)
    extra = keyword_leg(store, words, limit=candidates, restriction=restriction,
                        weights=(s.title_weight, s.heading_weight, s.body_weight),
                        per_document=per_document, share=s.document_share)
    owned = {**store.chunk_owners([c for c, _ in extra.ranked if c not in owners]), **owners}
    extra = LegResult(extra.name, [(c, v) for c, v in extra.ranked if c in owned])
    expanded = expanded_leg(legs[index], extra, owned, weight=s.expansion_weight,
                            limit=candidates, per_document=per_document)
    return [*legs[:index], expanded, *legs[index + 1:]], owned


def expansion_terms(store: SearchReads, query_terms: Sequence[str], texts: Sequence[str], *,
                    terms: int) -> list[str]:
    """The ``terms`` best expansion words of the feedback ``texts``, as FTS5 strings.

    Args:
        store: gives each candidate word's IDF.
        query_terms: the query's keyword terms (their words are never added).
        texts: one text per feedback document.
        terms: how many words to return.
    """
    asked = {_stem(w) for term in query_terms for w in _WORD.findall(term.lower())}
    weight: dict[str, float] = {}
    for text in texts:
        words = [w for w in _WORD.findall(text.lower())
                 if w not in STOPWORDS and _stem(w) not in asked]
        for word, count in Counter(words).items():
            weight[word] = weight.get(word, 0.0) + count / len(words)
    best = sorted(weight, key=lambda w: (-weight[w], w))[:POOL * terms]
    pool = [quote_fts(w) for w in best]
    idf = store.term_weights(pool)
    ranked = sorted((-weight[t[1:-1]] * idf[t], t) for t in pool if t in idf)
    return [t for _, t in ranked[:terms]]


def expanded_leg(keyword: LegResult, expansion: LegResult, owners: Mapping[int, int], *,
                 weight: float, limit: int, per_document: bool) -> LegResult:
    """``keyword``'s scores plus ``weight`` times ``expansion``'s, best ``limit`` first.

    Per document (``per_document``), a document the original leg found keeps the
    chunk that represents it there; ``owners`` maps every chunk of both legs.
    """
    key = (lambda cid: owners[cid]) if per_document else (lambda cid: cid)
    chunk_of = {key(cid): cid for cid, _ in reversed(expansion.ranked)}
    chunk_of |= {key(cid): cid for cid, _ in reversed(keyword.ranked)}
    scores: dict[int, float] = {}
    for cid, score in keyword.ranked:
        scores[key(cid)] = scores.get(key(cid), 0.0) + score
    for cid, score in expansion.ranked:
        scores[key(cid)] = scores.get(key(cid), 0.0) + weight * score
    best = sorted(scores.items(), key=lambda item: (-item[1], chunk_of[item[0]]))[:limit]
    return LegResult(keyword.name, [(chunk_of[k], s) for k, s in best], keyword.notes)


def _stem(word: str) -> str:
    """``word``'s first ``PREFIX`` letters: enough to tell "index" from "indexing" apart
    from unrelated words, without a stemmer."""
    return word[:PREFIX]
