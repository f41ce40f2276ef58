"""Fold Traditional Chinese characters to Simplified ones, one character at a time.

Chinese is written in two scripts: a note that says ``溫柔提醒`` (Traditional)
and a person who types ``温柔提醒`` (Simplified) mean the same words. A search
engine treats this as it treats letter case: the index and the query both
hold one folded form, so either script finds the other. It is normalisation,
not translation: one character in, one character out, with no phrase-level
conversion (a converter writes 乾 as 干 in 乾燥 but keeps it in 乾隆; a
search only needs both sides to agree). Because every character maps to
exactly one character, folded text keeps its length, and a word found in
folded text sits at the same offsets in the original (snippet highlights).

The table is OpenCC's ``TSCharacters.txt`` (Traditional -> Simplified,
Apache-2.0) as shipped by the pinned ``opencc-python-reimplemented``
package, read once through ``importlib.resources`` when first needed. Each
character maps to its first candidate; chains are closed (薴 -> 苧 -> 苎
gives 薴 -> 苎) so folding twice changes nothing, and a target outside lore's
CJK ranges (``lore.documents.cjk.CJK_CHARS``) is dropped, so a folded run is
still one run. Japanese kanji fold too (語 -> 语 on both sides, so Japanese
still finds Japanese); kana and Hangul are not in the table.

An index folded with one table and queries folded with another would
silently miss words, so the table must be the pinned release's, byte for
byte (``TABLE_SHA256``): anything else, including the official OpenCC
binding, which installs a module of the same name ``opencc``, is refused
with the command that fixes it.
"""

from __future__ import annotations

import functools
import hashlib
import re

from lore.errors import MissingDependencyError

PACKAGE = "opencc-python-reimplemented"
PACKAGE_VERSION = "0.1.7"
MODULE = "opencc"
TABLE = ("dictionary", "TSCharacters.txt")
TABLE_SHA256 = "6b5a0a799bea2bb22c001f635eaa3fc2904310f0c08addbff275477a80ecf09a"

HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
"""CJK ideographs, with extensions and compatibility forms (part of ``cjk.CJK_CHARS``)."""

_HAN = re.compile(f"[{HAN_CHARS}]")


def fold_han(text: str) -> str:
    """``text`` with every Traditional Chinese character replaced by its Simplified form.

    Raises:
        MissingDependencyError: the character table is missing or not the pinned one.
    """
    return text.translate(fold_table())


@functools.cache
def fold_table() -> dict[int, str]:
    """The folding table as ``str.translate`` takes it, loaded and checked once per process.

    Raises:
        MissingDependencyError: the character table is missing or not the pinned one.
    """
    return parse_table(_read_table())


def parse_table(text: str) -> dict[int, str]:
    """``TSCharacters.txt`` (``character<TAB>candidate candidate...``) as a closed fold table."""
    first: dict[str, str] = {}
    for line in text.splitlines():
        source, _, candidates = line.partition("\t")
        target = candidates.split(" ")[0]
        if len(source) == 1 and len(target) == 1 and _HAN.match(target):
            first[source] = target
    table: dict[int, str] = {}
    for source, first_target in first.items():
        target, seen = first_target, {source}
        while target in first and target not in seen:   # close chains; a cycle stops
            seen.add(target)
            target = first[target]
        if target != source:
            table[ord(source)] = target
    return table


def _read_table() -> str:
    """The table's text, or an error that says how to install the right one."""
    from importlib import resources

    try:
        data = resources.files(MODULE).joinpath(*TABLE).read_bytes()
    except ModuleNotFoundError as exc:
        raise _missing("it is not installed") from exc
    except (ImportError, OSError, TypeError, ValueError) as exc:
        raise _missing(f"the installed module '{MODULE}' has no {'/'.join(TABLE)} "
                       f"({type(exc).__name__}): another package, such as the OpenCC "
                       f"binding, installs a module of the same name") from exc
    if hashlib.sha256(data).hexdigest() != TABLE_SHA256:
        raise _missing(f"the installed module '{MODULE}' holds another version of "
                       f"{'/'.join(TABLE)}")
    return data.decode("utf-8")


def _missing(problem: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"lore folds Traditional and Simplified Chinese with the character table of "
        f"{PACKAGE} {PACKAGE_VERSION}, but {problem}. Install it with: "
        f"pip install --force-reinstall '{PACKAGE}=={PACKAGE_VERSION}' (if another "
        f"package provides the module '{MODULE}', uninstall it first).")
