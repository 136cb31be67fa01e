"""A live progress line for `f1 simulate` and `f1 replay`: events sent, rate, simulated time, lag."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from streaming.simulator.runner import Progress


def _render(progress: Progress, title: str):
    from rich.text import Text

    sim = time.strftime("%H:%M:%S", time.gmtime(progress.sim_seconds))
    pct = f" {100 * progress.sent / progress.total_events:5.1f}%" if progress.total_events else ""
    return Text(
        f"{title}{pct} | sim {sim} | sent {progress.sent:,} records ({progress.bytes / 1e6:,.1f} MB) | "
        f"{progress.rate():,.0f} records/s | lag {progress.lag_s:.1f} s | producer queue {progress.queued:,}"
    )


@contextlib.contextmanager
def progress_display(progress: Progress, title: str, enabled: bool | None = None) -> Iterator[None]:
    """Show `progress` live while the block runs (on a terminal, unless disabled)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.live import Live

    with Live(
        get_renderable=lambda: _render(progress, title),
        console=Console(stderr=True),
        refresh_per_second=4,
        transient=False,
    ):
        yield
