"""A small linked backlog on disk, for the server, watch and CLI-through-server tests."""

from __future__ import annotations

from pathlib import Path

TOPICS = ["vector cache invalidation", "sqlite write ahead log", "release checklist",
          "embedding model download", "rate limiting of clients", "faiss sidecar swap"]


def write_backlog(root: Path, tasks: int = 12) -> Path:
    """A feature, ``tasks`` tasks under it (topics cycle), an ADR, and a long note."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "features").mkdir(exist_ok=True)
    (root / "tasks").mkdir(exist_ok=True)
    (root / "decisions").mkdir(exist_ok=True)
    (root / "features" / "F-1.md").write_text(
        "---\nid: F-1\ntype: Feature\ntitle: Serving the index\ndecisions: [ADR-0001]\n---\n"
        "# Serving the index\n\nOne warm process answers every client.\n", encoding="utf-8")
    for i in range(1, tasks + 1):
        topic = TOPICS[i % len(TOPICS)]
        (root / "tasks" / f"T-{i}.md").write_text(
            f"---\nid: T-{i}\ntype: Task\ntitle: Task {i} about {topic}\nparent: F-1\n"
            f"state: {'Done' if i % 2 else 'Proposed'}\n---\n# Task {i}\n\n"
            f"Work on {topic}, part {i}.\n", encoding="utf-8")
    (root / "decisions" / "ADR-0001.md").write_text(
        "---\nid: ADR-0001\ntype: ADR\ntitle: Serve over HTTP on loopback\n---\n"
        "# Decision\n\nBind 127.0.0.1 unless a token is set.\n", encoding="utf-8")
    lines = "\n".join(f"Line {n}: notes about the vector cache and nothing else." for n in
                      range(1, 601))
    (root / "long.md").write_text(f"# A long note\n\n{lines}\n", encoding="utf-8")
    return root
