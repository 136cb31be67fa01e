"""The stream keeper sensor, evaluated against a real temporary Dagster instance.

It launches a run when none is active, does nothing while a healthy run is active, finds a run whose process
is gone, marks it failed and relaunches, backs off after repeated failures and gives up at the cap.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, InstigatorType
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id

from f1_assets.resources import PlatformSettings
from f1_assets.streams.keeper import Heartbeat, RunView, backoff_s, decide, owner_tag
from f1_assets.streams.sensors import stream_keeper
from streaming.jobs.runner import status_path
from streaming.runtime.ephemeral import ephemeral_env
from streaming.runtime.process import process_start_time
from streaming.settings import Settings


@pytest.fixture
def env(tmp_path):
    return ephemeral_env(tmp_path / "state", STREAM_MAX_RELAUNCHES="3", STREAM_HEARTBEAT_TIMEOUT_SECONDS="60")


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def evaluate(instance, env):
    context = dg.build_sensor_context(
        instance=instance, resources={"platform": PlatformSettings(environ=env)}
    )
    return stream_keeper("lake")(context)


def add_run(instance, status: dg.DagsterRunStatus) -> DagsterRun:
    run = DagsterRun(job_name="lake_stream", run_id=make_new_run_id(), status=dg.DagsterRunStatus.STARTED)
    instance.add_run(run)
    if status == dg.DagsterRunStatus.FAILURE:
        instance.report_run_failed(run, "crashed")
    return instance.get_run_by_id(run.run_id)


def write_heartbeat(env, run_id: str, pid: int, start_time: str | None, age_s: float = 0.0) -> None:
    import socket

    path = status_path(Settings.from_env(env), "lake")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "query": "lake",
                "state": "running",
                "owner": owner_tag(run_id),
                "host": socket.gethostname(),
                "pid": pid,
                "pid_start_time": start_time,
                "updated_at": time.time() - age_s,
            }
        )
    )


def dead_process() -> tuple[int, str]:
    process = subprocess.Popen(["sleep", "30"])
    start_time = process_start_time(process.pid)
    process.kill()
    process.wait()
    return process.pid, start_time


def test_launches_when_nothing_runs(instance, env):
    result = evaluate(instance, env)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["f1/stream"] == "lake"


def test_does_nothing_while_a_healthy_run_is_active(instance, env):
    run = add_run(instance, dg.DagsterRunStatus.STARTED)
    write_heartbeat(env, run.run_id, os.getpid(), process_start_time(os.getpid()))
    result = evaluate(instance, env)
    assert isinstance(result, dg.SkipReason) and run.run_id in result.skip_message
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


def test_a_killed_run_is_marked_failed_and_relaunched(instance, env):
    run = add_run(instance, dg.DagsterRunStatus.STARTED)
    write_heartbeat(env, run.run_id, *dead_process())
    result = evaluate(instance, env)
    assert isinstance(result, dg.RunRequest)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE


def test_a_hung_run_is_killed_marked_failed_and_relaunched(instance, env):
    run = add_run(instance, dg.DagsterRunStatus.STARTED)
    hung = subprocess.Popen(["sleep", "300"])
    try:
        write_heartbeat(env, run.run_id, hung.pid, process_start_time(hung.pid), age_s=120)
        result = evaluate(instance, env)
        assert isinstance(result, dg.RunRequest)
        assert hung.wait(10) == -9  # it held the stream's lock: the keeper killed it
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    finally:
        hung.kill()


def test_relaunches_after_a_failed_run_then_backs_off_then_gives_up(instance, env):
    add_run(instance, dg.DagsterRunStatus.FAILURE)
    assert isinstance(evaluate(instance, env), dg.RunRequest)  # the first failure: at once

    add_run(instance, dg.DagsterRunStatus.FAILURE)
    second = evaluate(instance, env)
    assert isinstance(second, dg.SkipReason) and "relaunching in" in second.skip_message

    add_run(instance, dg.DagsterRunStatus.FAILURE)
    third = evaluate(instance, env)
    assert isinstance(third, dg.SkipReason) and "not relaunching" in third.skip_message


def test_a_sensor_stopped_while_its_tick_ran_launches_nothing(instance, env):
    # the daemon chose the running sensors before the user's stop; the tick must see the stop
    origin = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("f1"), "__repository__")
    instance.add_instigator_state(
        InstigatorState(
            origin.get_instigator_origin("lake_stream_keeper"),
            InstigatorType.SENSOR,
            InstigatorStatus.STOPPED,
        )
    )
    result = evaluate(instance, env)
    assert isinstance(result, dg.SkipReason) and "stopped" in result.skip_message


def test_a_run_being_terminated_still_holds_the_stream():
    canceling = RunView("r1", "CANCELING", created_at=0.0)
    heartbeat = Heartbeat(owner=owner_tag("r1"), updated_at=100.0, process_alive=True)
    decision = decide([canceling], heartbeat, 101.0, heartbeat_timeout_s=60, max_failures=3)
    assert not decision.launch and "canceling" in decision.reason


def test_a_starting_run_gets_time_to_write_its_first_heartbeat():
    now = time.time()
    starting = RunView("r1", "STARTED", created_at=now - 20)
    assert not decide([starting], None, now, heartbeat_timeout_s=60, max_failures=5).launch
    late = RunView("r1", "STARTED", created_at=now - 90)
    decision = decide([late], None, now, heartbeat_timeout_s=60, max_failures=5)
    assert decision.launch and decision.dead_runs[0][0] == "r1"
    # a heartbeat of an older run does not count for this one
    stale = Heartbeat(owner=owner_tag("r0"), updated_at=now, process_alive=True)
    assert decide([late], stale, now, heartbeat_timeout_s=60, max_failures=5).dead_runs


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [0.0, 15.0, 30.0, 60.0]
    assert backoff_s(20) == 300.0
