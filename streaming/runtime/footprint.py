"""What the platform's processes hold and use: memory and CPU per service, and per process within one.

`f1 status` prints it. A service is every process in its process group, so the `dagster` service holds
the Dagster webserver, daemon and code servers, and every run they launch: the stream run's Spark driver,
the gold builds (dbt), the quality checks. `role_of` names such a process from its command line, so the
shares say which of them holds the memory and takes the cores.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from streaming.runtime.process import command_line, cpu_seconds, rss_kib


@dataclass(frozen=True)
class ProcessUse:
    """One process of a service: its role, resident memory (MiB) and CPU (cores, over the sample)."""

    service: str
    pid: int
    role: str
    rss_mib: float
    cores: float


def _app_name(args: Sequence[str]) -> str | None:
    return next((a.split("=", 1)[1] for a in args if a.startswith("spark.app.name=")), None)


def role_of(args: Sequence[str]) -> str:
    """What a process of the platform is, from its command line."""
    joined = " ".join(args)
    program = PurePath(args[0]).name if args else "?"
    if program == "java" or program.startswith("java"):
        if "org.apache.spark.deploy.SparkSubmit" in joined:
            app = _app_name(args)
            return f"spark driver ({app})" if app else "spark driver"
        return "jvm"
    roles = (
        ("dagster_webserver", "dagster webserver"),
        ("dagster._daemon", "dagster daemon"),
        ("code-server", "dagster code server"),
        ("api grpc", "dagster code server"),
        ("dagster dev", "dagster dev"),
        ("spawn_main", "dagster run"),
        ("execute_run", "dagster run"),
        ("dbt", "dbt"),
    )
    for marker, role in roles:
        if marker in joined:
            return role
    return program


def measure(members: dict[str, Iterable[int]], sample_s: float = 1.0) -> list[ProcessUse]:
    """Each process's memory and its CPU over `sample_s` seconds; `members` maps a service to its pids."""
    pids = {pid: service for service, service_pids in members.items() for pid in service_pids}
    before = {pid: cpu_seconds(pid) for pid in pids}
    started = time.monotonic()
    time.sleep(sample_s)
    elapsed = time.monotonic() - started
    uses = []
    for pid, service in pids.items():
        args = command_line(pid)
        if not args:  # gone meanwhile
            continue
        cores = max(0.0, cpu_seconds(pid) - before[pid]) / elapsed
        uses.append(ProcessUse(service, pid, role_of(args), rss_kib(pid) / 1024, cores))
    return uses


@dataclass(frozen=True)
class Share:
    """Processes of one service and role together: their memory, its share of the total, their cores."""

    service: str
    role: str
    processes: int
    rss_mib: float
    share: float
    cores: float


def shares(uses: Sequence[ProcessUse]) -> list[Share]:
    """`uses` by service and role, largest memory first; `share` is of all the processes' memory."""
    total = sum(u.rss_mib for u in uses) or 1.0
    groups: dict[tuple[str, str], list[ProcessUse]] = {}
    for use in uses:
        groups.setdefault((use.service, use.role), []).append(use)
    out = [
        Share(service, role, len(group), sum(u.rss_mib for u in group), 0.0, sum(u.cores for u in group))
        for (service, role), group in groups.items()
    ]
    out = [Share(**{**vars(s), "share": s.rss_mib / total}) for s in out]
    return sorted(out, key=lambda s: -s.rss_mib)
