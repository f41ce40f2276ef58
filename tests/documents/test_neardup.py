"""Near-identical documents are grouped; different items from one template are not."""

from __future__ import annotations

from pathlib import Path

from lore.documents.neardup import duplicate_groups, fingerprint, near_identical

ADAPTERS = (".agent", ".claude", ".codex", ".goose", ".github")
SKILL = "skills/kano-commit-convention-skill/SKILL.md"


def _fp(path: Path, title: str) -> object:
    text = path.read_text(encoding="utf-8")
    body = text.split("\n---", 1)[1] if text.startswith("---") else text
    return fingerprint(title, body)


def test_the_five_kano_skill_adapters_are_one_group(kano_corpus: Path) -> None:
    paths = [kano_corpus / folder / SKILL for folder in (*ADAPTERS, ".opencode")]
    fps = [(i, _fp(p, "kano-commit-convention-skill")) for i, p in enumerate(paths)]
    groups = duplicate_groups(fps)  # type: ignore[arg-type]
    assert {groups[i] for i in range(len(ADAPTERS))} == {0}
    assert len(ADAPTERS) not in groups  # the .opencode adapter is a different page


def test_same_template_different_titles_stay_apart(kano_corpus: Path) -> None:
    epics = sorted(kano_corpus.rglob("KCCS-FTR-000[234]_*.md"))
    assert len(epics) == 3
    titles = ["Commit Message Linter", "Changelog Automation", "Semantic Versioning"]
    fps = [(i, _fp(p, t)) for i, (p, t) in enumerate(zip(epics, titles, strict=True))]
    assert duplicate_groups(fps) == {}  # type: ignore[arg-type]


def test_a_small_edit_keeps_a_copy_and_a_rewrite_does_not() -> None:
    body = " ".join(f"word{i}" for i in range(200))
    edited = body.replace("word50", "changed")
    rewritten = " ".join(f"other{i}" for i in range(200))
    assert near_identical(fingerprint("T", body), fingerprint("t", edited))
    assert not near_identical(fingerprint("T", body), fingerprint("T", rewritten))
    assert not near_identical(fingerprint("T", body), fingerprint("U", body))


def test_a_copy_with_an_added_section_is_contained() -> None:
    body = " ".join(f"word{i}" for i in range(200))
    longer = body + " " + " ".join(f"extra{i}" for i in range(60))
    assert near_identical(fingerprint("T", body), fingerprint("T", longer))
    much_longer = body + " " + " ".join(f"extra{i}" for i in range(400))
    assert not near_identical(fingerprint("T", body), fingerprint("T", much_longer))


def test_groups_are_transitive_and_named_by_the_smallest_id() -> None:
    base = [f"w{i}" for i in range(300)]
    a = " ".join(base)
    b = " ".join(base[:290] + ["x"] * 10)
    c = " ".join(base[:280] + ["y"] * 20)
    groups = duplicate_groups([(7, fingerprint("T", a)), (3, fingerprint("T", b)),
                               (9, fingerprint("T", c)), (1, fingerprint("Other", a))])
    assert groups == {7: 3, 3: 3, 9: 3}
