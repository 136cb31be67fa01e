"""Stream keeper sensors (running by default): one per stream, keeping one run of its job alive.

Each tick reads the job's active and recent runs and the stream's heartbeat, and does what
f1_assets/streams/keeper.py decides: nothing while a healthy run is active; mark a dead run failed (and
kill its process if it hangs on this host); launch a run, with backoff and a cap on repeated failures.
To stop a stream: stop its sensor, then terminate its run.
"""

# No `from __future__ import annotations`: Dagster reads the op and sensor parameter types at runtime.

import os
import signal
import socket
import time
from datetime import UTC, datetime

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

from f1_assets.resources import PlatformSettings
from f1_assets.streams.jobs import STREAM_JOBS, STREAM_TAG
from f1_assets.streams.keeper import (
    ACTIVE_STATUSES,
    FAILURE_WINDOW_S,
    Heartbeat,
    RunView,
    decide,
    owner_tag,
)
from streaming.jobs import runner
from streaming.runtime.process import is_same_process

# A kill is noticed on the next tick; with Spark's start-up a stream is back within a minute.
TICK_SECONDS = 15


def _heartbeat(status: dict | None) -> Heartbeat | None:
    if status is None:
        return None
    on_this_host = status.get("host") == socket.gethostname()
    # A process on another host cannot be looked up from here: its heartbeat's age has to tell.
    alive = is_same_process(status["pid"], status.get("pid_start_time")) if on_this_host else True
    return Heartbeat(owner=status["owner"], updated_at=status["updated_at"], process_alive=alive)


def _run_views(instance: dg.DagsterInstance, job_name: str, now: float) -> list[RunView]:
    active = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus[s] for s in ACTIVE_STATUSES])
    )
    recent = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, updated_after=_utc(now - FAILURE_WINDOW_S)), limit=100
    )
    views = {}
    for record in [*active, *recent]:
        views[record.dagster_run.run_id] = RunView(
            run_id=record.dagster_run.run_id,
            status=record.dagster_run.status.value,
            created_at=_timestamp(record.create_timestamp),
            ended_at=record.end_time,
        )
    return list(views.values())


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _timestamp(moment: datetime) -> float:
    # run storage keeps naive UTC datetimes
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _end_dead_run(context, instance: dg.DagsterInstance, run_id: str, why: str, status: dict | None) -> None:
    """Kill what is left of a hung run on this host (it holds the stream's lock), then mark it failed."""
    ours = status and status.get("owner") == owner_tag(run_id) and status.get("host") == socket.gethostname()
    if ours and is_same_process(status["pid"], status.get("pid_start_time")):
        os.kill(status["pid"], signal.SIGKILL)
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        instance.report_run_failed(run, f"stream keeper: {why}")
    context.log.warning(f"run {run_id} is dead: {why}; marked failed")


def _stopped_since_tick_began(instance: dg.DagsterInstance, sensor_name: str) -> bool:
    """Whether someone stopped this sensor while its tick was being evaluated.

    The daemon picks the running sensors, then evaluates them; a sensor stopped in between still gets that
    tick, and the usual "stop the sensor, then terminate the run" would have the tick relaunch the stream.
    """
    stopped = instance.all_instigator_state(
        instigator_type=InstigatorType.SENSOR, instigator_statuses={InstigatorStatus.STOPPED}
    )
    return any(state.name == sensor_name for state in stopped)


def stream_keeper(query: str) -> dg.SensorDefinition:
    job = STREAM_JOBS[query]
    sensor_name = f"{query}_stream_keeper"

    @dg.sensor(
        name=sensor_name,
        description=f"Keeps one run of {job.name} alive: launches it, heals a killed or crashed run.",
        job=job,
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def keeper(context: dg.SensorEvaluationContext, platform: PlatformSettings):
        settings = platform.get()
        now = time.time()
        status = runner.read_query_status(settings, query)
        decision = decide(
            _run_views(context.instance, job.name, now),
            _heartbeat(status),
            now,
            heartbeat_timeout_s=settings.stream_heartbeat_timeout_seconds,
            max_failures=settings.stream_max_relaunches,
        )
        for run_id, why in decision.dead_runs:
            _end_dead_run(context, context.instance, run_id, why, status)
        if not decision.launch:
            if decision.gave_up:
                context.log.error(f"{query} stream: {decision.reason}")
            return dg.SkipReason(decision.reason)
        if _stopped_since_tick_began(context.instance, sensor_name):
            return dg.SkipReason("the sensor was stopped while this tick ran: not launching")
        context.log.info(f"{query} stream: {decision.reason}; launching a run")
        return dg.RunRequest(tags={STREAM_TAG: query, "f1/launched_by": sensor_name})

    return keeper


STREAM_SENSORS = [stream_keeper(query) for query in STREAM_JOBS]
