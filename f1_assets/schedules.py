"""Cron schedules that never pile runs up: a tick is skipped while the job's previous run is unfinished.

Each run of these jobs starts a Spark driver. On a busy two-core host a run can outlast its cron interval,
and starting the next one beside it would only slow both (and the streams) further.
"""

from __future__ import annotations

import dagster as dg

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def exclusive_schedule(
    job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition, cron: str
) -> dg.ScheduleDefinition:
    """`{job}_schedule` on `cron` (UTC), on by default; skips ticks while a run of `job` is unfinished."""

    @dg.schedule(
        name=f"{job.name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs {job.name} on {cron} (UTC), skipping ticks while its last run is unfinished.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        running = context.instance.get_run_records(
            filters=dg.RunsFilter(job_name=job.name, statuses=UNFINISHED), limit=1
        )
        if running:
            return dg.SkipReason(f"run {running[0].dagster_run.run_id} of {job.name} is still unfinished")
        return dg.RunRequest()

    return _schedule
