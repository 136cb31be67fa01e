"""`f1 stream status` of a stream whose driver is killed with SIGKILL again and again, as a user sees it.

Real `f1 stream run` processes on the test platform; each is killed (its whole process group, the JVM
with it) once it has written its status, before its queries could make progress. A killed process
writes nothing, so each relaunch must count the death it finds: the status shows a crash loop, not a
fresh start. The process looked at while alive is frozen with SIGSTOP first, so that it cannot make
progress (which ends a crash loop) while the status is read.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from streaming.jobs import runner
from streaming.runtime.ephemeral import free_port
from streaming.settings import PROJECT_ROOT, Settings


def _env(settings: Settings, state) -> dict[str, str]:
    return {
        **os.environ,
        **settings.as_env(),
        "F1_STATE_DIR": str(state),  # status files and locks of its own; the services are the platform's
        "SPARK_CHECKPOINT_PATH": str(state / "checkpoints"),
        "METRICS_EXPORTER_PORT": str(free_port()),
        "SPARK_UI_PORT": str(free_port()),
        "STREAM_QUERIES": "lake",
    }


def _start(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streaming.cli", "stream", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the JVM is killed with it
    )


def _status_of(settings: Settings, process: subprocess.Popen, log, timeout_s: float = 120) -> dict:
    """The status the process wrote of its query, once it has written one."""
    path = runner.status_path(settings, "lake")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            status = json.loads(path.read_text())
            if status["pid"] == process.pid:
                return status
        assert process.poll() is None, f"`f1 stream run` ended by itself:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)
    raise AssertionError(f"no status from pid {process.pid}:\n{log.read_text()[-3000:]}")


def _stream_status(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "streaming.cli", "stream", "status"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_driver_killed_again_and_again_shows_as_failing_with_restarts_and_last_error(
    platform_settings, tmp_path
):
    env = _env(platform_settings, tmp_path / "state")
    settings = Settings.from_env(env)
    log = tmp_path / "streams.log"
    kills = 3
    for number in range(kills):
        process = _start(env, log)
        status = _status_of(settings, process, log)
        assert status["restarts"] == number, status
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    # the last one killed, not relaunched yet: dead, and the loop it was in
    shown = _stream_status(env)
    assert re.search(r"^\s*lake\s+dead \(failing when last seen\)", shown, re.MULTILINE), shown
    assert f"{kills - 1} restarts since its last progress" in shown, shown

    # relaunched: failing, with every kill counted and what the last one was
    process = _start(env, log)
    try:
        status = _status_of(settings, process, log)
        os.killpg(process.pid, signal.SIGSTOP)
        shown = _stream_status(env)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    assert status["state"] == "failing" and status["restarts"] == kills, status
    assert re.search(r"^\s*lake\s+failing\s", shown, re.MULTILINE), shown
    assert re.search(
        rf"{kills} restarts since its last progress; last error: process \d+ ended without a word while "
        r"(starting|failing) \(killed: SIGKILL",
        shown,
    ), shown
