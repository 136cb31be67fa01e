"""Gold: run the dbt project (`dbt/`) with the platform's Spark configuration, in this process.

While the streams run, dbt goes to the Spark SQL server their driver serves (`gold_target`, the `streams`
target: dbt-spark's thrift method), and starts no Spark at all. Otherwise it uses the session method:

dbt-spark's `session` method builds its SparkSession from the profile's `server_side_parameters`; the
profile (`dbt/profiles.yml`) reads them as JSON from F1_DBT_SPARK_CONF, which `dbt_env` computes with
`streaming.clients.spark.spark_conf`: the same jars, Delta catalog and shared Hive metastore as the streams.

`run_dbt` runs dbt in this process (dbtRunner). dbt calls `SparkSession.builder.getOrCreate()` for every
statement, so a process that already has a SparkSession (the tests, the benchmark, Dagster's run worker)
runs dbt on that session: its static settings (jars, metastore, memory) stay as they were, and dbt only
changes session settings it may change. It sets `spark.sql.ansi.enabled=false` on the session for good,
so `run_dbt` puts the previous value back when dbt is done. A process without one (`f1 gold`, a
subprocess such as dagster-dbt's `dbt build`) starts it from F1_DBT_SPARK_CONF. Nothing here imports
Dagster: the Dagster layer points dagster-dbt at `DBT_PROJECT_DIR` with `dbt_env` in its environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from streaming.clients.probes import tcp_open
from streaming.clients.spark import THRIFT_HOST, get_spark, spark_conf
from streaming.errors import F1Error
from streaming.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
SPARK_CONF_VAR = "F1_DBT_SPARK_CONF"
APP_NAME = "f1-gold"
STREAMS_TARGET = "streams"
SESSION_TARGETS = ("local", "ci")  # dbt-spark's session method: Spark in dbt's own process
# dbt commands that never touch Spark: no session, no metastore needed.
OFFLINE_COMMANDS = {"parse", "ls", "list", "clean", "deps", "init", "--help", "-h", "--version"}


class DbtFailed(F1Error):
    """A dbt command ended with an error or a failing test."""


@dataclass(frozen=True)
class NodeTiming:
    """How one dbt node (model, test) went: its name, kind, status and seconds."""

    name: str
    resource_type: str
    status: str
    seconds: float
    rows_affected: int | None = None


def gold_target(s: Settings) -> str:
    """The dbt target gold builds with: `streams` while the streaming application serves Spark SQL.

    On the streams' warm driver (streaming/jobs/sql_server.py) a build starts no JVM, and reads silver
    through the Delta snapshot the streams keep up to date. A DBT_TARGET of local or ci (a Spark in dbt's
    own process) is the fallback when nothing answers on SPARK_THRIFT_PORT: no streams running, a
    replay. DBT_TARGET=remote and DBT_TARGET=streams are taken as they are.
    """
    if s.dbt_target in SESSION_TARGETS and tcp_open(THRIFT_HOST, s.spark_thrift_port, timeout_s=0.5):
        return STREAMS_TARGET
    return s.dbt_target


def dbt_env(s: Settings) -> dict[str, str]:
    """Environment variables dbt needs: the Spark configuration as JSON, the streams' SQL port and the
    default target (DBT_TARGET, as set: a process that puts these in its own environment keeps valid
    settings). The target a build takes, `gold_target`'s, goes on its command line: `--target`."""
    return {
        SPARK_CONF_VAR: json.dumps(spark_conf(s, APP_NAME)),
        "DBT_TARGET": s.dbt_target,
        "SPARK_THRIFT_PORT": str(s.spark_thrift_port),
    }


def shell_exports(s: Settings) -> str:
    """`export` lines for a shell, so that plain `dbt` finds the platform (`eval "$(f1 gold env)"`)."""
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in dbt_env(s).items())


def dbt_args(s: Settings, args: Sequence[str], target: str | None = None) -> list[str]:
    """`args` with the project and profiles folders and the target, unless `args` gives them."""
    full = list(args)
    if not full or full[0].startswith("-"):  # `dbt --version`, `dbt --help`: no command to add them to
        return full
    for flag, value in (
        ("--project-dir", str(DBT_PROJECT_DIR)),
        ("--profiles-dir", str(DBT_PROJECT_DIR)),
        ("--target", target or s.dbt_target),
    ):
        if flag not in full:
            full += [flag, value]
    return full


@contextlib.contextmanager
def _session_settings_kept() -> Iterator[None]:
    """Put back the session settings dbt-spark overrides on a SparkSession it shares with others."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    kept = {key: session.conf.get(key, None) for key in ("spark.sql.ansi.enabled",)} if session else {}
    try:
        yield
    finally:
        for key, value in kept.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)


def run_dbt(s: Settings, args: Sequence[str], *, check: bool = True, target: str | None = None):
    """Run a dbt command in this process on `target` (`gold_target`'s unless given); returns dbt's
    `dbtRunnerResult`.

    With `check`, a failed command (an error or a failing test) raises DbtFailed naming the nodes.
    """
    from dbt.cli.main import dbtRunner

    target = target or gold_target(s)
    os.environ.update(dbt_env(s))
    with _session_settings_kept():
        result = dbtRunner().invoke(dbt_args(s, args, target))
    if check and not result.success:
        failed = [t.name for t in timings(result) if t.status in ("error", "fail", "runtime error")]
        detail = f"failed: {', '.join(failed)}" if failed else str(result.exception or "see dbt's log")
        raise DbtFailed(f"dbt {' '.join(args)}: {detail}")
    return result


def timings(result) -> list[NodeTiming]:
    """Per-node timings of a dbt run/build/test result (empty for commands without nodes)."""
    results = getattr(result.result, "results", None) or []
    out = []
    for r in results:
        rows = (r.adapter_response or {}).get("rows_affected") if hasattr(r, "adapter_response") else None
        out.append(
            NodeTiming(r.node.name, r.node.resource_type, str(r.status), r.execution_time or 0.0, rows)
        )
    return out


def cli(s: Settings, args: Sequence[str]) -> int:
    """`f1 gold [DBT ARGS]`: dbt in this process (default `build`); `f1 gold env`: exports for plain dbt."""
    args = list(args) or ["build"]
    if args == ["env"]:
        print(shell_exports(s), end="")
        return 0
    target = gold_target(s)
    if args[0] not in OFFLINE_COMMANDS and target in SESSION_TARGETS:
        # Start the session here, with a clear error if the metastore is down; dbt then reuses it.
        get_spark(s, APP_NAME)
    result = run_dbt(s, args, check=False, target=target)
    return 0 if result.success else 1
