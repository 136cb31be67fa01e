"""`f1 status`'s per-process figures: what a process is, from its command line, and the shares."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from streaming.runtime.footprint import ProcessUse, measure, role_of, shares

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
PY = "/venv/bin/python"


@pytest.mark.parametrize(
    ("args", "role"),
    [
        (
            [
                JAVA,
                "-cp",
                "a.jar",
                "org.apache.spark.deploy.SparkSubmit",
                "--conf",
                "spark.app.name=f1-dagster-local",
                "pyspark-shell",
            ],
            "spark driver (f1-dagster-local)",
        ),
        ([JAVA, "org.apache.spark.deploy.SparkSubmit", "pyspark-shell"], "spark driver"),
        (["java", "-Xmx1g", "kafka.Kafka", "server.properties"], "jvm"),
        ([PY, "-m", "dagster_webserver", "--port", "3000"], "dagster webserver"),
        ([PY, "-m", "dagster._daemon", "run"], "dagster daemon"),
        (
            [PY, "-m", "dagster", "code-server", "start", "--socket", "/tmp/s"],
            "dagster code server",
        ),
        (
            [PY, "-m", "dagster", "api", "grpc", "--lazy-load-user-code"],
            "dagster code server",
        ),
        ([PY, "-m", "dagster", "dev", "-w", "workspace.yaml"], "dagster dev"),
        ([PY, "-m", "dagster", "api", "execute_run", "{}"], "dagster run"),
        (
            [PY, "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"],
            "dagster run",
        ),
        ([PY, "/venv/bin/dbt", "build", "--target", "streams"], "dbt"),
        (["/usr/bin/prometheus", "--config.file=p.yml"], "prometheus"),
    ],
)
def test_a_process_is_named_by_its_command_line(args, role):
    assert role_of(args) == role


def test_shares_group_by_service_and_role_largest_first():
    uses = [
        ProcessUse("dagster", 1, "spark driver (f1)", 3000.0, 1.2),
        ProcessUse("dagster", 2, "dagster code server", 250.0, 0.1),
        ProcessUse("dagster", 3, "dagster code server", 250.0, 0.0),
        ProcessUse("kafka", 4, "jvm", 500.0, 0.2),
    ]
    got = shares(uses)
    assert [(s.service, s.role, s.processes) for s in got] == [
        ("dagster", "spark driver (f1)", 1),
        ("dagster", "dagster code server", 2),
        ("kafka", "jvm", 1),
    ]
    assert [round(s.share, 2) for s in got] == [0.75, 0.12, 0.12]
    assert got[1].rss_mib == 500.0 and got[1].cores == pytest.approx(0.1)
    assert shares([]) == []


def test_measure_reads_a_real_process_memory_and_cpu():
    from streaming.runtime.process import cpu_seconds

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 30
        while cpu_seconds(busy.pid) < 0.2 and time.monotonic() < deadline:  # past Python's start-up
            time.sleep(0.05)
        uses = {u.pid: u for u in measure({"tests": [os.getpid(), busy.pid, 2**22 + 7]}, sample_s=1.0)}
    finally:
        busy.kill()
        busy.wait()
    assert set(uses) == {os.getpid(), busy.pid}  # a pid that is no process is left out
    assert all(u.service == "tests" and u.rss_mib > 1 for u in uses.values())
    # a spinning process against this one, asleep in the sample: not an absolute share of a core, which a
    # loaded machine (the other test worker, a platform) does not give it
    assert uses[busy.pid].cores > max(0.05, 3 * uses[os.getpid()].cores)


def test_the_platform_benchmark_sums_each_sample_and_keeps_peaks_and_averages(capsys):
    from streaming.bench.cli import _print
    from streaming.bench.platform import Footprints

    seen = Footprints()
    seen.add(
        [
            ProcessUse("dagster", 1, "spark driver (f1-dagster-local)", 3000.0, 1.0),
            ProcessUse("dagster", 2, "dbt", 200.0, 0.5),
            ProcessUse("kafka", 3, "jvm", 800.0, 0.1),
        ]
    )
    seen.add(
        [
            ProcessUse("dagster", 1, "spark driver (f1-dagster-ci)", 3400.0, 0.6),
            ProcessUse("kafka", 3, "jvm", 600.0, 0.2),
        ]
    )
    figures = seen.figures()
    assert figures["platform RSS peak"] == 4000.0 and figures["platform RSS average"] == 4000.0
    assert figures["platform CPU average"] == pytest.approx(1.2)
    assert figures["platform CPU peak"] == pytest.approx(1.6)
    assert figures["streams' Spark driver CPU average"] == pytest.approx(0.8)
    assert figures["dbt processes CPU average"] == pytest.approx(0.25)
    assert figures["RSS peak of service dagster"] == 3400.0 and figures["RSS peak of service kafka"] == 800.0
    assert figures["RSS peak of process spark driver"] == 3400.0  # one role whatever the app's name
    assert Footprints().figures() == {}
    _print(figures)
    printed = capsys.readouterr().out.splitlines()
    assert "platform RSS peak: 4000 MB" in printed and "platform CPU average: 1.20 cores" in printed
    assert "samples: 2 samples" in printed


def test_a_commit_waits_for_the_first_check_evaluation_after_it():
    from streaming.bench.platform import CHECK_GOAL_S, check_lags

    commits = [100.0, 150.0, 400.0, 1000.0, 1190.0]
    evaluations = [90.0, 160.0, 460.0]
    # 100 and 150 wait for 160; 400 for 460; 1000, never checked, counts until the end (a lower bound)
    # once it is older than the goal; 1190 is too young to say, left out
    assert check_lags(commits, evaluations, until=1000.0 + CHECK_GOAL_S + 1) == [60.0, 10.0, 60.0, 301.0]
    assert check_lags(commits, evaluations, until=1200.0) == [60.0, 10.0, 60.0]
    assert check_lags([], evaluations, until=1200.0) == []
