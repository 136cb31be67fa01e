"""What the stream keeper sensor does on a tick: pure decisions from the stream's runs and heartbeat.

A stream is one long-running Dagster run. The sensor launches it when none is active, relaunches it after
a failure (at once the first time, then with a doubling backoff, and not at all after
STREAM_MAX_RELAUNCHES failures in FAILURE_WINDOW_S, when a human must look), and finds runs that Dagster
still calls active but whose process is gone or hung: with the default run launcher, a run whose process
was killed stays STARTED forever and would block the stream. The heartbeat is the status file the
stream's process rewrites every few seconds (streaming/jobs/runner.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# Failed runs older than this no longer count toward the relaunch cap and the backoff.
FAILURE_WINDOW_S = 1800.0
BACKOFF_BASE_S = 15.0
BACKOFF_MAX_S = 300.0
# CANCELING counts: a run being terminated still holds the stream until its process is gone.
ACTIVE_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class RunView:
    """What the keeper needs of one run of the stream's job."""

    run_id: str
    status: str  # a DagsterRunStatus name
    created_at: float
    ended_at: float | None = None


@dataclass(frozen=True)
class Heartbeat:
    """The stream's status file: who wrote it, whether that process still lives, and when."""

    owner: str
    updated_at: float
    process_alive: bool


@dataclass(frozen=True)
class Decision:
    """launch: start a new run; dead_runs: mark these failed first (terminating what is left of them)."""

    launch: bool
    reason: str
    dead_runs: tuple[tuple[str, str], ...] = ()  # (run id, why it is dead)
    gave_up: bool = False


def owner_tag(run_id: str) -> str:
    """How a stream run names itself in its heartbeat."""
    return f"dagster:{run_id}"


def dead_reason(run: RunView, heartbeat: Heartbeat | None, now: float, timeout_s: float) -> str | None:
    """Why an active run is dead, or None while it may still be alive."""
    if heartbeat is not None and heartbeat.owner == owner_tag(run.run_id):
        if not heartbeat.process_alive:
            return "its process is gone (killed or crashed) but the run is still marked active"
        age = now - heartbeat.updated_at
        if age > timeout_s:
            return f"no heartbeat for {age:.0f} s (STREAM_HEARTBEAT_TIMEOUT_SECONDS={timeout_s:.0f})"
        return None
    # No heartbeat of its own yet: it is starting (Spark takes a while), up to the same timeout.
    if now - run.created_at > timeout_s:
        return f"no heartbeat {now - run.created_at:.0f} s after it was launched"
    return None


def backoff_s(failures: int) -> float:
    """Wait before relaunching after `failures` recent failures: none after the first, then doubling."""
    if failures <= 1:
        return 0.0
    return min(BACKOFF_BASE_S * 2 ** (failures - 2), BACKOFF_MAX_S)


def decide(
    runs: list[RunView],
    heartbeat: Heartbeat | None,
    now: float,
    *,
    heartbeat_timeout_s: float,
    max_failures: int,
) -> Decision:
    """One tick of the keeper for one stream, from its job's runs (any order) and its heartbeat."""
    dead, alive = [], []
    for run in runs:
        if run.status in ACTIVE_STATUSES:
            why = dead_reason(run, heartbeat, now, heartbeat_timeout_s)
            (dead if why else alive).append((run, why))
    if alive:
        run = alive[0][0]
        return Decision(False, f"run {run.run_id} is {run.status.lower()}")

    failed = [
        run.ended_at or now
        for run in runs
        if run.status == "FAILURE" and now - (run.ended_at or now) < FAILURE_WINDOW_S
    ] + [now for _ in dead]
    dead_runs = tuple((run.run_id, why) for run, why in dead)
    if len(failed) >= max_failures:
        return Decision(
            False,
            f"{len(failed)} failed runs in {FAILURE_WINDOW_S / 60:.0f} min (STREAM_MAX_RELAUNCHES="
            f"{max_failures}): not relaunching; fix the cause, then launch the job or restart the sensor",
            dead_runs,
            gave_up=True,
        )
    if failed:
        wait = backoff_s(len(failed)) - (now - max(failed))
        if wait > 0:
            return Decision(False, f"{len(failed)} recent failures: relaunching in {wait:.0f} s", dead_runs)
        return Decision(True, f"relaunching after {len(failed)} failure(s) in the last 30 min", dead_runs)
    return Decision(True, "no run of the stream is active", dead_runs)
