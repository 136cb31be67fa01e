"""The local runtime: supervision, health, status, and the messages users get when a service is missing."""

from __future__ import annotations

import os
import signal
import time

import pytest

from streaming.clients.kafka_admin import require_kafka
from streaming.errors import ServiceUnavailable
from streaming.runtime import manager
from streaming.runtime.ephemeral import ephemeral_env, free_port
from streaming.runtime.process import ManagedProcess, _group_members
from streaming.settings import Settings


def test_status_reports_every_service_healthy_with_memory(platform_settings):
    rows = {row.name: row for row in manager.status(platform_settings, ["kafka", "metastore", "prometheus"])}
    for row in rows.values():
        assert row.running and row.healthy, row
        assert row.rss_mib > 10
    assert rows["kafka"].endpoint == platform_settings.kafka_bootstrap_servers


def test_supervisor_restarts_a_killed_service(platform_settings):
    s = platform_settings
    proc = manager.process_of(s, manager.SERVICES["prometheus"])
    supervisor, child = proc.pid(), proc.child_pid()
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.child_pid() in (None, child):
        time.sleep(0.2)
    assert proc.child_pid() not in (None, child), proc.log_tail()
    assert proc.pid() == supervisor
    manager.wait(s, ["prometheus"], timeout_s=60)
    assert "restarting in" in proc.log_file.read_text()


def test_up_is_idempotent(platform_settings):
    assert manager.up(platform_settings, ["kafka", "metastore"]) == []


def test_stop_ends_the_whole_process_group(tmp_path):
    proc = ManagedProcess("sleeper", tmp_path / "run", tmp_path / "logs")
    assert proc.start(["sh", "-c", "sleep 300 & sleep 300"], dict(os.environ), cwd=tmp_path)
    assert not proc.start(["sleep", "1"], dict(os.environ), cwd=tmp_path), "second start must be a no-op"
    deadline = time.monotonic() + 10
    while proc.child_pid() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = proc.pid()
    assert proc.stop(timeout_s=10)
    assert proc.pid() is None
    assert _group_members(pid) == [], "a process of the service outlived `stop`"


def test_a_stale_pid_file_is_not_mistaken_for_a_live_service(tmp_path):
    proc = ManagedProcess("ghost", tmp_path, tmp_path)
    proc.pid_file.write_text(f"{os.getpid()} 1")  # our pid, but another start time
    assert proc.pid() is None
    assert not proc.pid_file.exists()


def test_missing_kafka_says_how_to_start_it(tmp_path):
    s = Settings.from_env(ephemeral_env(tmp_path))
    with pytest.raises(ServiceUnavailable) as raised:
        require_kafka(s, timeout_s=1)
    message = str(raised.value)
    assert s.kafka_bootstrap_servers in message
    assert "KAFKA_BOOTSTRAP_SERVERS" in message
    assert "make up" in message


def test_missing_metastore_says_how_to_start_it(tmp_path):
    from streaming.clients.spark import get_spark

    s = Settings.from_env(ephemeral_env(tmp_path))
    with pytest.raises(ServiceUnavailable, match=r"(?s)metastore.*METASTORE_PORT.*make up"):
        get_spark(s)


def test_wait_on_a_service_that_is_not_running_says_so(tmp_path):
    s = Settings.from_env(ephemeral_env(tmp_path, PROMETHEUS_PORT=str(free_port())))
    with pytest.raises(ServiceUnavailable, match=r"(?s)prometheus.*not running.*make up"):
        manager.wait(s, ["prometheus"], timeout_s=5)


def test_a_service_that_cannot_start_fails_with_its_log(tmp_path, platform_settings):
    """Prometheus on a port that Kafka already holds exits at once; `up` must say why, not hang."""
    s = Settings.from_env(ephemeral_env(tmp_path, PROMETHEUS_PORT=str(platform_settings.kafka_port)))
    try:
        with pytest.raises(ServiceUnavailable, match=r"(?s)prometheus.*address already in use"):
            manager.up(s, ["prometheus"], timeout_s=60)
    finally:
        manager.down(s, ["prometheus"])
