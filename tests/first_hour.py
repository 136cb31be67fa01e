"""What the first-hour test (tests/test_make_roundtrip.py) waits for and asserts of a running platform.

`FirstHour` is one look at it: a Dagster snapshot through its GraphQL API (tests/dagster_graphql.py) and
the rows of `silver.quarantine`, read from outside (streaming/clients/delta_read.py). It says what the
platform has not done yet (`waiting_for`), what must never happen (`problems`), the figures the test prints
and, for a failure message, what Dagster showed (`evidence`).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass

from f1_assets.quality.checks import GOLD_CHECKS
from streaming.clients.dagster_graphql import AUTOMATION_TAG, DagsterGraphQL, Snapshot
from streaming.clients.delta_read import local_table_path, read_rows
from streaming.jobs.silver import QUARANTINE_TABLE
from streaming.settings import PROJECT_ROOT, STREAM_QUERY_NAMES, Settings
from tests.bad_records import BadRecord

# The first hour, sped up: a few cars racing four times faster than real time (a Monza lap in ~20 s, a
# five-lap race in under two minutes, then the next one), the checks every three minutes, gold every
# minute (a build starts at the first tick after the one before it ended: every two minutes, the second
# build waited 2-2.5 min after the first; now ~50 s), and a batch of the streams every 5 s, not 2 s: a
# lighter stream beside the gold builds on the same driver (not measured apart: the test took 744 s
# with both changes against 729 s before, on a machine whose runs vary by more than that).
FIRST_HOUR_SETTINGS = {
    "SIMULATOR_CARS": "4",
    "SIMULATOR_SPEED": "4",
    "SIMULATOR_LAPS": "5",
    "STREAM_TRIGGER_SECONDS": "5",
    "QUALITY_CHECK_CRON": "*/3 * * * *",
    "GOLD_BUILD_CRON": "* * * * *",
    "STREAM_REPORT_SECONDS": "15",
    "PROMETHEUS_SCRAPE_INTERVAL": "5s",
}
GOLD_AUTOMATION = "gold_automation"
LAP_METRICS = ["gold", "lap_metrics"]  # the mart whose builds gold_built follows
STREAM_JOBS = ("lake_stream",)
GOLD_BUILDS_WANTED = 2
# The test waits for what it wants to see, polling, up to this long after `make up`: room for the streams
# to start (~3 min), and two gold builds one after the other (a build waits for the one before it to end),
# each a dbt build of 49 nodes on the streams' Spark, 2-4 minutes on two cores beside the streams, the
# quality checks and gold's checks. A passing run ends as soon as it has seen everything (~12 min).
FIRST_HOUR_DEADLINE_S = 2100
POLL_S = 15
GOLD_EXPECTATIONS = {(tuple(k.asset_key.path), k.name) for k in GOLD_CHECKS.check_keys}


def quarantined(settings: Settings) -> list[dict]:
    table = local_table_path(settings, QUARANTINE_TABLE)
    return read_rows(table, ["reason", "reason_detail", "raw_value", "kafka_topic", "event_id"])


@dataclass
class FirstHour:
    """What the first-hour test waits for and asserts, from one Dagster snapshot and the quarantine."""

    snapshot: Snapshot
    quarantine: list[dict]
    bad: list[BadRecord]
    injected_at: float | None = None  # when the bad records were acknowledged (Unix seconds)

    def gold_builds(self) -> list[dict]:
        return self.snapshot.materializing_runs(LAP_METRICS, GOLD_AUTOMATION)

    def builds_started_after_the_bad_records(self) -> list[dict]:
        """The automated gold builds whose run started after the bad records were in Kafka: gold built
        by itself with them in the pipeline."""
        if self.injected_at is None:
            return []
        return [b for b in self.gold_builds() if (b["startTime"] or b["creationTime"]) >= self.injected_at]

    def checks_evaluated(self, layer: str) -> dict:
        return self.snapshot.evaluated_checks(layer)

    def gold_expectations_evaluated(self) -> dict:
        """Gold's Great Expectations checks (not dbt's tests) evaluated: in the run that built gold, or in a
        gold_quality_checks run the gold_built sensor launched for a build its run did not check."""
        return {
            key: executions
            for key, executions in self.checks_evaluated("gold").items()
            if key in GOLD_EXPECTATIONS
        }

    def bad_record_reasons(self) -> dict[int, list[str]]:
        """{index in `bad`: the reasons of its rows in the quarantine} (one row, of its reason, is right)."""
        return {
            i: [
                r["reason"]
                for r in self.quarantine
                if r["raw_value"] == record.value and r["kafka_topic"] == record.topic
            ]
            for i, record in enumerate(self.bad)
        }

    def waiting_for(self) -> list[str]:
        """What the platform has not done yet (empty: everything the test waits for happened)."""
        missing = []
        builds = self.gold_builds()
        if len(builds) < GOLD_BUILDS_WANTED:
            missing.append(
                f"gold/lap_metrics materialised by {GOLD_AUTOMATION} runs {len(builds)} time(s), "
                f"wanted {GOLD_BUILDS_WANTED}"
            )
        if not self.builds_started_after_the_bad_records():
            missing.append(f"no {GOLD_AUTOMATION} build of gold/lap_metrics started after the bad records")
        for layer in ("bronze", "silver", "gold"):
            if not self.checks_evaluated(layer):
                total = len(self.snapshot.checks_of(layer))
                missing.append(f"no {layer} asset check evaluated (of {total} {layer} checks)")
        if not self.gold_expectations_evaluated():
            missing.append("gold's Great Expectations checks never evaluated")
        for i, reasons in self.bad_record_reasons().items():
            record = self.bad[i]
            if len(reasons) != 1 or reasons[0] not in record.reasons:
                missing.append(
                    f"bad record {i} ({record.change}; {record.topic}, {len(record.value)} bytes): "
                    f"quarantined with {reasons}, wanted one row of {sorted(record.reasons)}"
                )
        return missing

    def problems(self, since: float) -> list[str]:
        """What must never happen: failed sensor ticks, failed runs, a stream without its running run."""
        found = []
        for name, ticks in self.snapshot.failed_ticks(since).items():
            total = len(
                (self.snapshot.sensor(name) or {"sensorState": {"ticks": []}})["sensorState"]["ticks"]
            )
            found.append(
                f"sensor {name}: {len(ticks)} of {total} ticks FAILED; last error: {_last_error(ticks[0])}"
            )
        for run in self.snapshot.failed_runs():
            found.append(f"run {run['runId'][:8]} of {run['jobName']} FAILED (tags {_short_tags(run)})")
        for job in STREAM_JOBS:
            if not self.snapshot.runs_of(job, "STARTED"):
                statuses = [r["status"] for r in self.snapshot.runs_of(job)]
                found.append(f"no STARTED run of {job} (its runs: {statuses})")
        return found

    def figures(self, started: float, injected: float | None) -> list[str]:
        builds = self.gold_builds()
        lines = []
        if builds:
            first = builds[0]["materialized_at"] - started
            lines.append(
                f"time to first gold build (lap_metrics by {GOLD_AUTOMATION}): {first:.0f} s after make up"
            )
        after = len(self.builds_started_after_the_bad_records())
        lines.append(f"gold builds by {GOLD_AUTOMATION}: {len(builds)} ({after} started after the bad ones)")
        automation_runs = self.snapshot.launched_by(GOLD_AUTOMATION)
        lines.append(f"{GOLD_AUTOMATION} runs: {[r['status'] for r in automation_runs]}")
        # where the time goes: each run's start after `make up` and how long it took (or has run so far)
        for job in sorted({r["jobName"] for r in self.snapshot.runs} - set(STREAM_JOBS)):
            spans = [
                f"{(r['startTime'] or r['creationTime']) - started:.0f}+"
                f"{(r.get('endTime') or time.time()) - (r['startTime'] or r['creationTime']):.0f}s"
                for r in sorted(self.snapshot.runs_of(job), key=lambda r: r["creationTime"])
            ]
            lines.append(f"{job} runs (start after make up + duration): {', '.join(spans)}")
        for layer in ("bronze", "silver", "gold"):
            evaluated = self.checks_evaluated(layer)
            executions = sum(len(e) for e in evaluated.values())
            lines.append(
                f"{layer} checks evaluated: {len(evaluated)} of {len(self.snapshot.checks_of(layer))} "
                f"checks, {executions} executions"
            )
        lines.append(f"gold Great Expectations checks evaluated: {len(self.gold_expectations_evaluated())}")
        by_reason: dict[str, int] = {}
        for row in self.quarantine:
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + 1
        lines.append(f"silver.quarantine by reason: {dict(sorted(by_reason.items()))}")
        reasons = self.bad_record_reasons()
        lines.append(
            "bad records: "
            + "; ".join(
                f"{i} ({r.change}): wanted one of {sorted(r.reasons)}, quarantined as {reasons[i]}"
                for i, r in enumerate(self.bad)
            )
        )
        lines.append(f"sensor ticks: {self.snapshot.tick_counts()}")
        runs_by_job: dict[str, dict[str, int]] = {}
        for run in self.snapshot.runs:
            job = runs_by_job.setdefault(run["jobName"], {})
            job[run["status"]] = job.get(run["status"], 0) + 1
        lines.append(f"runs by job: {runs_by_job}")
        return lines

    def evidence(self, client: DagsterGraphQL, settings: Settings) -> str:
        """What Dagster showed, for a failure message: gold_automation's last ticks and evaluation, the last
        failed ticks' errors, the failed runs' stderr."""
        lines = []
        sensor = self.snapshot.sensor(GOLD_AUTOMATION)
        if sensor:
            for tick in sensor["sensorState"]["ticks"][:5]:
                lines.append(
                    f"{GOLD_AUTOMATION} tick {time.strftime('%H:%M:%S', time.gmtime(tick['timestamp']))}: "
                    f"{tick['status']}, {tick['requestedAssetMaterializationCount']} requested, "
                    f"skip reason {tick['skipReason']!r}, error {_last_error(tick)!r}"
                )
        try:
            for record in client.automation_evaluations(LAP_METRICS, limit=1):
                lines.append(
                    f"latest automation evaluation of gold/lap_metrics: {record['numRequested']} requested"
                )
                for node in record["evaluationNodes"]:
                    label = node["userLabel"] or " ".join(node["expandedLabel"])
                    lines.append(f"  {node['numTrue']} true: {label[:160]}")
        except Exception as error:  # noqa: BLE001 - evidence only
            lines.append(f"automation evaluations unavailable: {error}")
        for name, ticks in self.snapshot.failed_ticks().items():
            lines.append(
                f"last failed tick of {name}: {(ticks[0]['error'] or {}).get('message', '')[-1500:]}"
            )
        for run in self.snapshot.failed_runs()[:3]:
            logs = sorted(settings.dagster_home.glob(f"storage/{run['runId']}/compute_logs/*.err"))
            tail = "\n".join(path.read_text(errors="replace")[-1500:] for path in logs)
            lines.append(f"--- failed run {run['runId'][:8]} of {run['jobName']}:\n{tail}")
        return "\n".join(lines)


def _last_error(tick: dict) -> str:
    message = ((tick.get("error") or {}).get("message") or "").strip().splitlines()
    return message[-1][:300] if message else ""


def _short_tags(run: dict) -> dict:
    return {
        k: v
        for k, v in run["tags"].items()
        if k in ("dagster/sensor_name", "dagster/schedule_name", "f1/stream", AUTOMATION_TAG)
    }


def code_location_loaded(client: DagsterGraphQL, timeout_s: float = 180) -> None:
    """Wait for Dagster's code locations to load; fail with the load error of one that does not."""
    deadline = time.monotonic() + timeout_s
    while True:
        locations = client.locations()
        failed = [loc for loc in locations if loc["error"]]
        assert not failed, (
            "Dagster's code location does not load (so no sensor, schedule or run):\n"
            + "\n".join(f"{loc['name']}: {loc['error'][-3000:]}" for loc in failed)
        )
        if locations and all(loc["loadStatus"] == "LOADED" for loc in locations):
            return
        assert time.monotonic() < deadline, f"Dagster's code locations still loading: {locations}"
        time.sleep(5)


def await_first_hour(client, settings, bad, injected_at: float, deadline: float) -> FirstHour:
    """Poll Dagster and the quarantine until everything the test waits for happened, or `deadline`
    (Unix seconds)."""
    while True:
        seen = FirstHour(Snapshot.take(client), quarantined(settings), bad, injected_at)
        if not seen.waiting_for() or time.time() > deadline:
            return seen
        time.sleep(POLL_S)


def streams_up(settings: Settings, env: dict[str, str]) -> list[str]:
    """Problems with the streams as `f1 stream status` and their exporters show them (empty: both run)."""
    from streaming.jobs.runner import metrics_port
    from streaming.observability.metrics import scrape

    status = subprocess.run(
        ["uv", "run", "--frozen", "f1", "stream", "status"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    problems = []
    for query in STREAM_QUERY_NAMES:
        if not re.search(rf"^\s*{query}\s+running\s", status.stdout, re.MULTILINE):
            problems.append(
                f"`f1 stream status` does not show {query} running:\n{status.stdout}{status.stderr}"
            )
        up = scrape(metrics_port(settings, (query,))).get(("f1_stream_up", (("query", query),)))
        if up != 1:
            problems.append(f"the {query} stream's exporter says f1_stream_up={up}")
    return problems


# a whole platform with four Spark drivers at times (bronze, silver, checks, dbt) on two cores: minutes
