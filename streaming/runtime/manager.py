"""Start, wait for, stop and report on the local services, in dependency order."""

from __future__ import annotations

import time
from dataclasses import dataclass

from streaming.errors import F1Error, ServiceUnavailable
from streaming.runtime.process import ManagedProcess
from streaming.runtime.service import Service
from streaming.runtime.services import SERVICES
from streaming.settings import PROJECT_ROOT, Settings


def process_of(s: Settings, service: Service) -> ManagedProcess:
    return ManagedProcess(service.name, s.run_dir, s.logs_dir)


def selected(s: Settings, names: list[str] | None = None) -> list[Service]:
    """The named services (default: F1_SERVICES), in start order."""
    wanted = names or list(s.f1_services)
    unknown = [n for n in wanted if n not in SERVICES]
    if unknown:
        raise F1Error(f"Unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return [SERVICES[n] for n in SERVICES if n in wanted]


def up(s: Settings, names: list[str] | None = None, timeout_s: float = 180.0) -> list[str]:
    """Start every selected service that is not running and wait until all are healthy.

    Services start in order and each is waited for before the next, because later ones (Dagster)
    use earlier ones. Returns the names that were started now.
    """
    started = []
    for service in selected(s, names):
        proc = process_of(s, service)
        if not proc.is_running():
            service.prepare(s)
            proc.start(service.command(s), service.env(s), cwd=PROJECT_ROOT)
            started.append(service.name)
        try:
            wait(s, [service.name], timeout_s)
        except ServiceUnavailable:
            if service.name in started:  # don't leave a crash-looping service behind
                proc.stop()
            raise
    return started


def wait(s: Settings, names: list[str] | None = None, timeout_s: float = 180.0) -> None:
    """Block until every selected service answers its health probe; raise with its log tail if not.

    A service whose process exits before it is healthy fails at once instead of at the timeout.
    """
    for service in selected(s, names):
        proc = process_of(s, service)
        deadline = time.monotonic() + timeout_s
        first_child = proc.last_child_pid()
        reason = service.probe(s)
        while reason is not None:
            child = proc.last_child_pid()
            first_child = first_child or child
            if not proc.is_running():
                problem = "it is not running"
            elif child and child != first_child:
                problem = "it exited while starting"
            elif time.monotonic() > deadline:
                problem = f"not healthy after {timeout_s:.0f} s ({reason})"
            else:
                time.sleep(0.5)
                reason = service.probe(s)
                continue
            raise ServiceUnavailable(
                service.name,
                service.endpoint(s),
                service.variable,
                f"{problem}. Last lines of {proc.log_file}:\n{proc.log_tail()}",
            )


def down(s: Settings, names: list[str] | None = None) -> list[str]:
    """Stop the selected services in reverse order; returns the names that were running."""
    stopped = []
    for service in reversed(selected(s, names or list(SERVICES))):
        if process_of(s, service).stop():
            stopped.append(service.name)
    return stopped


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    title: str
    endpoint: str
    running: bool
    healthy: bool
    detail: str
    rss_mib: float
    log_file: str


def status(s: Settings, names: list[str] | None = None) -> list[ServiceStatus]:
    rows = []
    for service in selected(s, names or list(SERVICES)):
        proc = process_of(s, service)
        reason = service.probe(s)
        rows.append(
            ServiceStatus(
                name=service.name,
                title=service.title,
                endpoint=service.endpoint(s),
                running=proc.is_running(),
                healthy=reason is None,
                detail=reason or "ok",
                rss_mib=proc.rss_kib() / 1024,
                log_file=str(proc.log_file),
            )
        )
    return rows
