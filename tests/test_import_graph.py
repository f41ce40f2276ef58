"""The import graph of ``src/lore``: no circles, and no SQL in the search rooms.

Imports are read with ``ast`` from every module, at any depth: an import
inside a function is still an edge, because hiding a circle behind a
function-level import only moves the failure to run time. Imports under
``if TYPE_CHECKING:`` are edges too (a type-only circle still means two
modules that cannot be read apart).

The search side talks to the store through ``lore.store.base.Store``; a
``search/`` module that runs a statement itself (``.execute(...)`` or SQL
text naming a catalog table) would bypass that seam, and the PostgreSQL
backend would silently not see it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import lore

PACKAGE_DIR = Path(lore.__file__).resolve().parent
CATALOG_TABLES = ("documents", "chunks", "chunks_fts", "links", "fields", "chunk_vectors",
                  "spaces", "meta")
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET)\s+("
                  + "|".join(CATALOG_TABLES) + r")\b", re.IGNORECASE)


def module_name(path: Path) -> str:
    """``src/lore/search/engine.py`` -> ``lore.search.engine`` (packages drop ``__init__``)."""
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``lore`` modules that ``name`` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            # ``from lore.store import base`` names a module; ``from lore.x import f`` does not.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target != "lore":
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the lore modules it imports."""
    mods = modules()
    known = set(mods)
    return {name: imported(name, path, known) for name, path in mods.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_circles_are_detected_in_a_made_up_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_function_level_imports_are_edges(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from lore.store import base\n    import lore.search.fts\n")
    found = imported("lore.x", source, {"lore.store.base", "lore.search.fts", "lore.store"})
    assert found == {"lore.store", "lore.store.base", "lore.search.fts"}


def test_lore_has_no_import_circles() -> None:
    assert circles(import_graph()) == []


def sql_in(path: Path) -> list[str]:
    """Where a module runs SQL itself: ``.execute`` calls and SQL text on catalog tables."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("execute", "executemany", "executescript"):
            problems.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _SQL.search(node.value):
            problems.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n == "sqlite3" or n.startswith(("psycopg", "sqlite3.")) for n in names):
                problems.append(f"line {node.lineno}: imports a database driver")
    return problems


def test_the_sql_detector_finds_a_query(tmp_path: Path) -> None:
    source = tmp_path / "leg.py"
    source.write_text('import sqlite3\n\ndef leg(conn):\n'
                      '    return conn.execute("SELECT id FROM chunks WHERE x = ?", (1,))\n')
    assert len(sql_in(source)) == 3
    clean = tmp_path / "clean.py"
    clean.write_text('"""Select the best chunks from the documents."""\nX = "from chunks"\n')
    assert sql_in(clean) == []


@pytest.mark.parametrize("path", sorted((PACKAGE_DIR / "search").glob("*.py")),
                         ids=lambda p: p.name)
def test_search_modules_run_no_sql(path: Path) -> None:
    assert sql_in(path) == []
