"""What ``lore index`` says while it works: the plan, then progress with rate and ETA.

The first index of a real folder embeds thousands of chunks on the CPU, for
minutes. A silent command looks hung, so the plan (how many chunks) is
printed as soon as it is known, with a first estimate from the model's
speed measured by ``bench/models_bench.py`` (a catalogue model only), and
said to build a new space beside the old one when the model changed. The
measured rate and time left follow as they become measurable: as a bar on a terminal; when stderr is piped (a
log, CI), as a line with the first estimate, then one every ``LINE_EVERY_S``.
Everything goes to stderr; stdout keeps the summary (or ``--json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lore.cli._output import echo, make_console
from lore.embed.models import estimate_phrase

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from lore.sync import ProgressCallback

# A bar for a few dozen files would only flicker.
PROGRESS_MIN_FILES = 200
# Piped progress: one line this often.
LINE_EVERY_S = 15.0
# The rate is measured over at least this long before an ETA is given.
MEASURE_S = 3.0

EmbedCallback = Callable[[int, int], None]


def format_duration(seconds: float) -> str:
    """``seconds`` as 45s, 3m05s or 1h02m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class EmbedMeter:
    """Chunks per second and time left of one embedding pass.

    Args:
        clock: seconds, monotonic (injectable so tests need not sleep).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.total = 0
        self.done = 0

    def update(self, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` chunks are embedded."""
        if done == 0:
            self.started = self.clock()
        self.done, self.total = done, total

    def rate(self) -> float | None:
        """Chunks per second so far, once ``MEASURE_S`` have passed."""
        elapsed = self.clock() - self.started
        if elapsed < MEASURE_S or self.done == 0:
            return None
        return self.done / elapsed

    def describe(self) -> str:
        """E.g. "1,200/5,820 chunks (21%), 29.5 chunks/s, about 2m36s left"; at the end,
        "5,820/5,820 chunks (100%) in 3m17s, 29.5 chunks/s"."""
        share = self.done / self.total if self.total else 1.0
        text = f"{self.done:,}/{self.total:,} chunks ({share:.0%})"
        elapsed = self.clock() - self.started
        if self.done >= self.total:
            return text + f" in {format_duration(elapsed)}, " \
                          f"{self.done / max(elapsed, 1e-9):.1f} chunks/s"
        rate = self.rate()
        if rate:
            text += f", {rate:.1f} chunks/s, about " \
                    f"{format_duration((self.total - self.done) / rate)} left"
        return text


def plan_line(total: int, model: str | None = None, beside: str | None = None) -> str:
    """What ``lore index`` is about to embed, said before it starts.

    Args:
        total: chunks to embed.
        model: the configured model; a catalogue model gets a first estimate.
        beside: the space the index holds now, when this pass builds a new one.
    """
    head = f"Embedding {total:,} chunks" + (f" with {model}" if model else "")
    if beside:
        head += (f" into a new space beside the index's {beside}, which keeps serving "
                 "searches until the new one is complete")
    estimate = estimate_phrase(model, total) if model else None
    when = (f"{estimate}; the measured time left follows" if estimate
            else "the time left is shown once the rate is measured")
    return (f"{head}; {when}. Keyword search works meanwhile (`lore search --mode keyword`); "
            "`lore index --no-embed` skips this step.")


@contextmanager
def index_progress(*, enabled: bool, plan: Callable[[int], str] = plan_line,
                   ) -> Iterator[tuple[ProgressCallback | None, EmbedCallback | None]]:
    """Callbacks for ``Index.sync``: (per-file progress, embedding progress).

    On a terminal both drive rich bars; piped, files are silent (they take
    seconds) and embedding prints the plan, then a line every ``LINE_EVERY_S``.
    ``plan`` words the plan from the number of chunks (see ``plan_line``).
    """
    if not enabled:
        yield None, None
        return
    console = make_console(stderr=True)
    if not console.is_terminal:
        yield None, piped_embed_progress(plan=plan)
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        yield _file_bar(bar), _embed_bar(bar, plan)


def piped_embed_progress(clock: Callable[[], float] = time.monotonic, *,
                         plan: Callable[[int], str] = plan_line) -> EmbedCallback:
    """Embedding progress as stderr lines: the plan, the first estimate, then every 15 s."""
    meter = EmbedMeter(clock)
    last_line = [meter.clock()]
    estimated = [False]

    def embedded(done: int, total: int) -> None:
        meter.update(done, total)
        now = meter.clock()
        if done == 0:
            echo(plan(total), err=True)
            last_line[0] = now
            estimated[0] = False
        # The first estimate as soon as there is one, then a line now and then.
        elif done == total or now - last_line[0] >= LINE_EVERY_S or \
                (not estimated[0] and meter.rate() is not None):
            echo(f"  embedded {meter.describe()}", err=True)
            last_line[0] = now
            estimated[0] = estimated[0] or meter.rate() is not None

    return embedded


def _file_bar(bar: Progress) -> ProgressCallback:
    task: TaskID = bar.add_task("indexing", total=None, visible=False)

    def advance(done: int, total: int, path: str) -> None:
        bar.update(task, completed=done, total=total, visible=total >= PROGRESS_MIN_FILES,
                   description=f"indexing {path[-40:]}")

    return advance


def _embed_bar(bar: Progress, plan: Callable[[int], str]) -> EmbedCallback:
    task: TaskID = bar.add_task("embedding", total=None, visible=False)
    meter = EmbedMeter()

    def embedded(done: int, total: int) -> None:
        meter.update(done, total)
        if done == 0:
            bar.console.print(plan(total))
        bar.update(task, completed=done, total=total, visible=True,
                   description=f"embedding {meter.describe()}")

    return embedded
