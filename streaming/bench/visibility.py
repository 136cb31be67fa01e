"""When rows become visible to a reader of a Delta table, seen from outside the pipeline.

`LogWatcher` polls local Delta tables' logs every few tens of milliseconds, as a reader that wants the
newest rows would. Each new commit is stamped with the wall time it was first seen; for the table whose
latency is measured, the commit's new files are read (pyarrow, no Spark) and each row's event time is
compared with that stamp: the event's visibility latency. It also counts each table's commits and files,
so that a benchmark can say how many commits and files a micro-batch makes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

POLL_SECONDS = 0.05


@dataclass
class TableLog:
    path: Path
    next_version: int = 0
    commits: int = 0
    files: int = 0
    data_commits: int = 0  # commits that add files (appends), as opposed to metadata-only commits


@dataclass
class Visibility:
    """Each event's latency (ms), from its event time to the first sight of the commit holding it."""

    latencies_ms: list[float] = field(default_factory=list)
    event_ns: list[int] = field(default_factory=list)


class LogWatcher:
    """Polls tables' Delta logs in a thread; `measured` is the table whose rows' latency is measured."""

    def __init__(
        self,
        tables: dict[str, Path],
        measured: str,
        *,
        since_ns: int,
        time_column: str = "event_time_unix_ns",
        poll_seconds: float = POLL_SECONDS,
    ):
        self.logs = {name: TableLog(Path(path)) for name, path in tables.items()}
        self.measured, self.since_ns, self.time_column = measured, since_ns, time_column
        self.poll_seconds = poll_seconds
        self.visibility = Visibility()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="f1-delta-log-watcher", daemon=True)

    def start(self) -> LogWatcher:
        for log in self.logs.values():  # only what is committed from now on
            log.next_version = _next_version(log.path)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, log in self.logs.items():
                self._poll(name, log)
            self._stop.wait(self.poll_seconds)

    def _poll(self, name: str, log: TableLog) -> None:
        while True:
            commit = log.path / "_delta_log" / f"{log.next_version:020d}.json"
            try:
                text = commit.read_text()
            except FileNotFoundError:
                return
            seen_ns = time.time_ns()
            added = [json.loads(line)["add"]["path"] for line in text.splitlines() if '"add"' in line[:8]]
            log.next_version += 1
            log.commits += 1
            log.files += len(added)
            log.data_commits += bool(added)
            if name == self.measured and added:
                self._measure(log.path, added, seen_ns)

    def _measure(self, table: Path, added: list[str], seen_ns: int) -> None:
        import pyarrow.parquet as pq

        for path in added:
            parsed = urlparse(path)
            local = Path(unquote(parsed.path)) if parsed.scheme else table / unquote(path)
            for event_ns in pq.read_table(local, columns=[self.time_column]).column(0).to_pylist():
                if event_ns is not None and event_ns >= self.since_ns:
                    self.visibility.event_ns.append(event_ns)
                    self.visibility.latencies_ms.append((seen_ns - event_ns) / 1e6)


def _next_version(table: Path) -> int:
    versions = [int(p.stem) for p in (table / "_delta_log").glob("*.json") if p.stem.isdigit()]
    return max(versions, default=-1) + 1


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
