"""SQLite FTS5's ``porter`` stemmer, rule for rule, so PostgreSQL's postings hold its stems.

The local index stems with FTS5's ``porter`` tokenizer (sqlite's
``fts5_tokenize.c``), which is neither Snowball's ``porter`` (PostgreSQL's
``lore_porter`` dictionary, PyStemmer's ``porter``) nor ``english``:

- a token under 3 or over 64 bytes (UTF-8) is left as it is (``ms``, ``5s``);
- step 2 has Porter's later rules ``-bli`` -> ``-ble`` and ``-logi`` -> ``-log``
  (``pathology`` is ``patholog``; Snowball keeps ``pathologi``);
- a rule's suffix must be shorter than the token, and rules are tried grouped by
  the suffix's last-but-one letter, the first suffix found deciding (when its
  condition fails, no later suffix of the group is tried);
- ``y`` is a vowel anywhere but at the start in the ``*v*`` condition, and
  after a consonant in the measure, as sqlite's code reads;
- it works on bytes: any byte of a non-ASCII letter is a consonant.

Tokens arrive cut and folded (``terms.words``), so this module only stems.
"""

from __future__ import annotations

from functools import lru_cache

MIN_BYTES, MAX_BYTES = 3, 64      # tokens outside these lengths are not stemmed

_VOWELS = frozenset(b"aeiou")
_Y = ord("y")

# (suffix, condition, replacement, "step 1b removed a suffix"), grouped as sqlite's
# generated switch groups them (by the suffix's last-but-one letter, rules in order).
_Rule = tuple[bytes, str, bytes, bool]
_STEP_1B: list[_Rule] = [(b"eed", "m>0", b"ee", False), (b"ed", "*v*", b"", True),
                         (b"ing", "*v*", b"", True)]
_STEP_1B2: list[_Rule] = [(b"at", "", b"ate", True), (b"bl", "", b"ble", True),
                          (b"iz", "", b"ize", True)]
_STEP_2: list[_Rule] = [(s, "m>0", r, False) for s, r in (
    (b"ational", b"ate"), (b"tional", b"tion"), (b"enci", b"ence"), (b"anci", b"ance"),
    (b"izer", b"ize"), (b"logi", b"log"), (b"bli", b"ble"), (b"alli", b"al"),
    (b"entli", b"ent"), (b"eli", b"e"), (b"ousli", b"ous"), (b"ization", b"ize"),
    (b"ation", b"ate"), (b"ator", b"ate"), (b"alism", b"al"), (b"iveness", b"ive"),
    (b"fulness", b"ful"), (b"ousness", b"ous"), (b"aliti", b"al"), (b"iviti", b"ive"),
    (b"biliti", b"ble"))]
_STEP_3: list[_Rule] = [(s, "m>0", r, False) for s, r in (
    (b"icate", b"ic"), (b"ative", b""), (b"alize", b"al"), (b"iciti", b"ic"),
    (b"ical", b"ic"), (b"ful", b""), (b"ness", b""))]
_STEP_4: list[_Rule] = [(s, "m>1 and (*s or *t)" if s == b"ion" else "m>1", b"", False)
                        for s in (b"al", b"ance", b"ence", b"er", b"ic", b"able", b"ible",
                                  b"ant", b"ement", b"ment", b"ent", b"ion", b"ou", b"ism",
                                  b"ate", b"iti", b"ous", b"ive", b"ize")]


def _grouped(rules: list[_Rule]) -> dict[int, list[_Rule]]:
    """Rules by their suffix's last-but-one byte, in order (sqlite's ``switch``)."""
    groups: dict[int, list[_Rule]] = {}
    for rule in rules:
        groups.setdefault(rule[0][-2], []).append(rule)
    return groups


_STEPS = {name: _grouped(rules) for name, rules in (
    ("1b", _STEP_1B), ("1b2", _STEP_1B2), ("2", _STEP_2), ("3", _STEP_3), ("4", _STEP_4))}


def _vowel(c: int, y_is_vowel: bool) -> bool:
    return c in _VOWELS or (y_is_vowel and c == _Y)


def _gobble_vc(stem: bytes, previous_consonant: bool) -> int:
    """The length of ``stem``'s first vowels-then-consonant run, plus one; 0 without."""
    consonant = previous_consonant
    i = 0
    while i < len(stem):
        consonant = not _vowel(stem[i], consonant)
        if not consonant:
            break
        i += 1
    i += 1
    while i < len(stem):
        consonant = not _vowel(stem[i], consonant)
        if consonant:
            return i + 1
        i += 1
    return 0


def _m_gt0(stem: bytes) -> bool:
    return _gobble_vc(stem, False) > 0


def _m_gt1(stem: bytes) -> bool:
    n = _gobble_vc(stem, False)
    return bool(n) and _gobble_vc(stem[n:], True) > 0


def _m_eq1(stem: bytes) -> bool:
    n = _gobble_vc(stem, False)
    return bool(n) and _gobble_vc(stem[n:], True) == 0


def _o_star(stem: bytes) -> bool:
    """Consonant, vowel, consonant at the end, the last not ``w``, ``x`` or ``y``."""
    if not stem or stem[-1] in b"wxy":
        return False
    mask, consonant = 0, False
    for c in stem:
        consonant = not _vowel(c, consonant)
        mask = (mask << 1) + consonant
    return mask & 7 == 5


def _has_vowel(stem: bytes) -> bool:
    return any(_vowel(c, i > 0) for i, c in enumerate(stem))


_CONDITIONS = {
    "": lambda stem: True, "m>0": _m_gt0, "m>1": _m_gt1, "*v*": _has_vowel,
    "m>1 and (*s or *t)": lambda stem: stem[-1:] in (b"s", b"t") and _m_gt1(stem)}


def _step(word: bytes, name: str) -> tuple[bytes, bool]:
    """Apply one step's first matching rule; also whether it returned "removed"."""
    if len(word) < 2:
        return word, False
    for suffix, condition, replacement, flag in _STEPS[name].get(word[-2], ()):
        if len(word) > len(suffix) and word.endswith(suffix):
            stem = word[:-len(suffix)]
            if _CONDITIONS[condition](stem):
                return stem + replacement, flag
            return word, False
    return word, False


def _step_1a(word: bytes) -> bytes:
    if word[-1:] != b"s":
        return word
    if word[-2:-1] == b"e":
        if (len(word) > 4 and word[-4:-2] == b"ss") or (len(word) > 3 and word[-3:-2] == b"i"):
            return word[:-2]
        return word[:-1]
    return word if word[-2:-1] == b"s" else word[:-1]


def _stem_bytes(word: bytes) -> bytes:
    word = _step_1a(word)
    word, removed = _step(word, "1b")
    if removed:
        word, replaced = _step(word, "1b2")
        if not replaced:
            c = word[-1]
            if (not _vowel(c, False) and c not in b"lsz" and len(word) > 1
                    and c == word[-2]):
                word = word[:-1]
            elif _m_eq1(word) and _o_star(word):
                word += b"e"
    if word[-1:] == b"y" and _has_vowel(word[:-1]):
        word = word[:-1] + b"i"
    for name in ("2", "3", "4"):
        word, _ = _step(word, name)
    if word[-1:] == b"e":
        stem = word[:-1]
        if _m_gt1(stem) or (_m_eq1(stem) and not _o_star(stem)):
            word = stem
    if len(word) > 1 and word.endswith(b"ll") and _m_gt1(word[:-1]):
        word = word[:-1]
    return word


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """``token`` (lowercased, folded, as ``terms.words`` cuts it) as FTS5's porter
    stems it. A stem that ends inside a multi-byte letter (sqlite drops a byte of
    a doubled consonant's bytes) keeps that letter's replacement character, the
    same for every document and query."""
    raw = token.encode("utf-8")
    if not MIN_BYTES <= len(raw) <= MAX_BYTES:
        return token
    return _stem_bytes(raw).decode("utf-8", errors="replace")
