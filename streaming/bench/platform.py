"""`f1 bench platform`: the whole platform's memory and CPU, and how far gold trails, over a real-time race.

It runs `make up`'s platform with the configured settings (50 cars at the nominal rate by default): it
starts whatever of it is not running (and stops that again at the end), then measures from outside for
`--minutes` (20 by default):

- every process of every service, every SAMPLE_S seconds (`streaming.runtime.footprint`: a service is its
  process group, so the `dagster` service holds the stream run's Spark driver, the gold builds and the
  check runs): RSS peak and average, in total, per service and per process role; CPU in cores (CPU
  seconds per second), in total and for the Spark driver that runs the streams (gold's SQL runs there too:
  streaming/jobs/sql_server.py) and for dbt's processes;
- the gold trail, as `f1 bench gold-trail` measures it: lap end to its row in `gold.lap_metrics`;
- how long a commit waits for the asset checks: for each commit of a checked table while measured (its
  Delta log entry's time), the time to the first evaluation of each of its asset's checks after it, read
  from Dagster's GraphQL API. A commit still unchecked at the end counts to the end, if it is older than
  CHECK_GOAL_S; younger ones are left out.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from streaming.bench.gold_trail import percentile
from streaming.clients.dagster_graphql import EVALUATED, DagsterGraphQL
from streaming.clients.delta_read import local_table_path
from streaming.runtime import footprint, manager
from streaming.settings import Settings

SAMPLE_S = 10.0
CHECK_GOAL_S = 300.0  # every check evaluated within 5 minutes of its slice
# The table a check's asset's rows land in, when the asset is not a table itself (silver's views).
LAYER_TABLES = {
    "bronze": "bronze.telemetry",
    "silver": "silver.telemetry_enriched",
    "gold": "gold.lap_metrics",
}
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


def commit_times(s: Settings, table: str, since: float) -> list[float]:
    """When each commit of `table` since `since` (Unix seconds) landed: its Delta log entry's time."""
    log = local_table_path(s, table) / "_delta_log"
    times = (path.stat().st_mtime for path in log.glob("*.json")) if log.is_dir() else ()
    return sorted(t for t in times if t >= since)


def check_lags(commits: list[float], evaluations: list[float], until: float) -> list[float]:
    """For each commit, seconds to the first evaluation at or after it; an unchecked commit older than
    CHECK_GOAL_S counts until `until` (a lower bound), a younger one is left out."""
    lags, evaluations = [], sorted(evaluations)
    for commit in commits:
        after = bisect.bisect_left(evaluations, commit)  # the first evaluation at or after the commit
        if after < len(evaluations):
            lags.append(evaluations[after] - commit)
        elif until - commit > CHECK_GOAL_S:
            lags.append(until - commit)
    return lags


def _check_table(s: Settings, path: list[str]) -> str:
    table = ".".join(path)
    return table if (local_table_path(s, table) / "_delta_log").is_dir() else LAYER_TABLES[path[0]]


def measure_check_lags(s: Settings, since: float, until: float) -> dict[str, float]:
    """Commit-to-evaluation lags of every bronze, silver and gold asset check (Dagster's GraphQL API)."""
    client = DagsterGraphQL(s.dagster_ui_url or f"http://127.0.0.1:{s.dagster_port}")
    checks = [
        (asset["assetKey"]["path"], check["name"])
        for asset in client.asset_nodes(limit=1)
        if asset["assetKey"]["path"][0] in LAYER_TABLES
        for check in (asset.get("assetChecksOrError") or {}).get("checks", [])
    ]
    executions = client.check_executions(checks, limit=500)
    lags, late = [], 0
    for path, name in checks:
        runs = executions[(tuple(path), name)]
        # when it was evaluated (its run started at `timestamp`); Unix seconds
        evaluated = [float((e["evaluation"] or e)["timestamp"]) for e in runs if e["status"] in EVALUATED]
        check = check_lags(commit_times(s, _check_table(s, path), since), evaluated, until)
        lags += check
        late += bool(check) and max(check) > CHECK_GOAL_S
    figures = {"asset checks measured": float(len(checks)), "asset checks later than 5 min": float(late)}
    if lags:
        figures |= {
            "p50 commit-to-check lag": percentile(lags, 0.5),
            "p99 commit-to-check lag": percentile(lags, 0.99),
            "max commit-to-check lag": max(lags),
        }
    return figures


def run_platform(s: Settings, minutes: float) -> dict[str, float]:
    from streaming.bench.gold_trail import run_gold_trail

    started = manager.up(s)  # what is not running yet; `make up` would start the same
    print(f"platform: started {', '.join(started) or 'nothing (all running)'}", flush=True)
    footprints, stop = Footprints(), threading.Event()
    sampler = threading.Thread(target=sample_footprints, args=(s, stop, footprints), daemon=True)
    began, since = time.monotonic(), time.time()
    sampler.start()
    try:
        trail = run_gold_trail(s, minutes)
        checks = measure_check_lags(s, since, time.time())
    finally:
        stop.set()
        sampler.join()
        if started:
            manager.down(s, started)
    return footprints.figures() | trail | checks | {"measured": time.monotonic() - began}


UNITS = {
    "platform RSS peak": "MB",
    "platform RSS average": "MB",
    "platform CPU average": "cores",
    "platform CPU peak": "cores",
    "streams' Spark driver CPU average": "cores",
    "dbt processes CPU average": "cores",
    "samples": "samples",
    "measured": "s",
    "asset checks measured": "checks",
    "asset checks later than 5 min": "checks",
    "p50 commit-to-check lag": "s",
    "p99 commit-to-check lag": "s",
    "max commit-to-check lag": "s",
}


def unit(name: str) -> str | None:
    if name.startswith("RSS peak of"):
        return "MB"
    return UNITS.get(name)
