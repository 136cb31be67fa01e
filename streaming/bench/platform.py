"""`f1 bench platform`: the whole platform's memory and CPU, and how far gold trails, over a real-time race.

It runs `make up`'s platform with the configured settings (50 cars at the nominal rate by default): it
starts whatever of it is not running (and stops that again at the end), then measures from outside for
`--minutes` (20 by default):

- every process of every service, every SAMPLE_S seconds (`streaming.runtime.footprint`: a service is its
  process group, so the `dagster` service holds the stream run's Spark driver, the gold builds and the
  check runs): RSS peak and average, in total, per service and per process role; CPU in cores (CPU
  seconds per second), in total and for the Spark driver that runs the streams (gold's SQL runs there too:
  streaming/jobs/sql_server.py) and for dbt's processes;
- the gold trail, as `f1 bench gold-trail` measures it: lap end to its row in `gold.lap_metrics`.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from streaming.runtime import footprint, manager
from streaming.settings import Settings

SAMPLE_S = 10.0
STREAMS_ROLE = "spark driver"  # the stream run's driver: the only Spark JVM of the platform


@dataclass
class Footprints:
    """What the samples saw: RSS (MiB) per sample by service and by role, and CPU (cores) per sample."""

    total_mib: list[float] = field(default_factory=list)
    by_service: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_role: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cores: list[float] = field(default_factory=list)
    streams_cores: list[float] = field(default_factory=list)
    dbt_cores: list[float] = field(default_factory=list)

    def add(self, uses: list[footprint.ProcessUse]) -> None:
        self.total_mib.append(sum(u.rss_mib for u in uses))
        services, roles = defaultdict(float), defaultdict(float)
        for use in uses:
            services[use.service] += use.rss_mib
            # the driver's app name varies with the environment (f1-dagster-local, -ci, ...)
            roles[use.role.split(" (")[0]] += use.rss_mib
        for name, mib in services.items():
            self.by_service[name].append(mib)
        for name, mib in roles.items():
            self.by_role[name].append(mib)
        self.cores.append(sum(u.cores for u in uses))
        self.streams_cores.append(sum(u.cores for u in uses if u.role.startswith(STREAMS_ROLE)))
        self.dbt_cores.append(sum(u.cores for u in uses if u.role == "dbt"))

    def figures(self) -> dict[str, float]:
        if not self.total_mib:
            return {}
        n = len(self.total_mib)
        out = {
            "platform RSS peak": max(self.total_mib),
            "platform RSS average": sum(self.total_mib) / n,
            "platform CPU average": sum(self.cores) / n,
            "platform CPU peak": max(self.cores),
            "streams' Spark driver CPU average": sum(self.streams_cores) / n,
            "dbt processes CPU average": sum(self.dbt_cores) / n,
            "samples": float(n),
        }
        for name, series in sorted(self.by_service.items()):
            out[f"RSS peak of service {name}"] = max(series)
        for name, series in sorted(self.by_role.items()):
            out[f"RSS peak of process {name}"] = max(series)
        return out


def sample_footprints(s: Settings, stop: threading.Event, into: Footprints, sample_s: float = SAMPLE_S):
    """Measure every service's processes every `sample_s` seconds until `stop`."""
    while not stop.is_set():
        members = {svc.name: manager.process_of(s, svc).members() for svc in manager.selected(s)}
        into.add(footprint.measure(members, sample_s=1.0))
        stop.wait(sample_s)


def run_platform(s: Settings, minutes: float) -> dict[str, float]:
    from streaming.bench.gold_trail import run_gold_trail

    started = manager.up(s)  # what is not running yet; `make up` would start the same
    print(f"platform: started {', '.join(started) or 'nothing (all running)'}", flush=True)
    footprints, stop = Footprints(), threading.Event()
    sampler = threading.Thread(target=sample_footprints, args=(s, stop, footprints), daemon=True)
    began = time.monotonic()
    sampler.start()
    try:
        trail = run_gold_trail(s, minutes)
    finally:
        stop.set()
        sampler.join()
        if started:
            manager.down(s, started)
    return footprints.figures() | trail | {"measured": time.monotonic() - began}


UNITS = {
    "platform RSS peak": "MB",
    "platform RSS average": "MB",
    "platform CPU average": "cores",
    "platform CPU peak": "cores",
    "streams' Spark driver CPU average": "cores",
    "dbt processes CPU average": "cores",
    "samples": "samples",
    "measured": "s",
}


def unit(name: str) -> str | None:
    if name.startswith("RSS peak of"):
        return "MB"
    return UNITS.get(name)
