"""The one place optional dependencies are imported.

A missing package becomes a ``MissingDependencyError`` that names the extra
and the exact command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lore.errors import MissingDependencyError


def require(module: str, *, extra: str | None = None, package: str | None = None,
            purpose: str = "") -> ModuleType:
    """Import ``module`` or raise an actionable ``MissingDependencyError``.

    Args:
        module: dotted module name to import.
        extra: the lore extra that installs it (``pip install 'lore[EXTRA]'``).
        package: the PyPI name, when it differs from the module name.
        purpose: what needs it, for the message ("the sentence-transformers provider").
    """
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        how = f"pip install 'lore[{extra}]'" if extra else f"pip install {pkg}"
        need = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"The package '{pkg}' is needed{need} but is not installed. Install it with: {how}"
        ) from exc
    return mod
