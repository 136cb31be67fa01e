"""The `f1` command: the same actions as the Makefile, with --help on each.

f1 up [SERVICE...]      start services (default: F1_SERVICES) and wait until healthy
f1 wait [SERVICE...]    wait until services are healthy
f1 init                 create topics, register the contracts, create the databases (idempotent)
f1 simulate             simulate a race and stream its telemetry into Kafka
f1 replay FILE          replay a recording into Kafka, byte for byte
f1 contracts generate   regenerate classes and JSON Schemas from proto/ (--check: fail if stale)
f1 contracts check      test changed contracts against the registry before deploying them
f1 stream run|start|stop|status
                        the lake streaming query: Kafka to bronze, silver, quarantine (run: in the foreground)
f1 maintain             compact (OPTIMIZE) and vacuum the Delta tables
f1 gold [DBT ARGS]      the gold layer: dbt in-process with the platform's Spark (default: build)
f1 bench [WHICH]        benchmarks, each figure on its own line (--json FILE to keep them)
f1 status               what runs where, health and memory
f1 logs [SERVICE]       print (or follow) service logs
f1 down [SERVICE...]    stop services
f1 reset                stop everything and delete all local state (data, checkpoints, logs)
f1 env-example          print .env.example, generated from the settings
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from streaming.errors import F1Error
from streaming.settings import PROJECT_ROOT, Settings, render_env_example


def _services_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("services", nargs="*", help="service names (default: F1_SERVICES)")


def cmd_up(s: Settings, args) -> int:
    from streaming.runtime import manager

    t0 = time.monotonic()
    started = manager.up(s, args.services or None, timeout_s=args.timeout)
    elapsed = time.monotonic() - t0
    print(f"started: {', '.join(started) or 'nothing (all running)'}; all healthy in {elapsed:.1f} s")
    _print_status(s, args.services or None)
    return 0


def cmd_wait(s: Settings, args) -> int:
    from streaming.runtime import manager

    t0 = time.monotonic()
    manager.wait(s, args.services or None, timeout_s=args.timeout)
    print(f"healthy after {time.monotonic() - t0:.1f} s")
    return 0


def cmd_down(s: Settings, args) -> int:
    from streaming.runtime import manager

    stopped = manager.down(s, args.services or None)
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def _print_status(s: Settings, names: list[str] | None) -> list:
    from streaming.runtime import manager

    rows = manager.status(s, names)
    print(f"{'service':<11} {'state':<9} {'rss':>8}  endpoint")
    for row in rows:
        state = "healthy" if row.healthy else ("starting" if row.running else "stopped")
        print(f"{row.name:<11} {state:<9} {row.rss_mib:>6.0f}MB  {row.endpoint}")
    return rows


def _footprint(s: Settings, names: list[str] | None) -> list:
    """Each running service's processes, by role, with their memory, share and cores (a 1 s sample)."""
    from streaming.runtime import footprint, manager

    members = {svc.name: manager.process_of(s, svc).members() for svc in manager.selected(s, names)}
    return footprint.shares(footprint.measure(members))


def cmd_status(s: Settings, args) -> int:
    from dataclasses import asdict

    if args.json:
        from streaming.runtime import manager

        shares = _footprint(s, args.services or None)
        rows = [
            asdict(row) | {"processes": [asdict(p) for p in shares if p.service == row.name]}
            for row in manager.status(s, args.services or None)
        ]
        print(json.dumps(rows, indent=2))
        return 0
    _print_status(s, args.services or None)
    shares = _footprint(s, args.services or None)
    total_mib, total_cores = sum(p.rss_mib for p in shares), sum(p.cores for p in shares)
    print(f"total rss: {total_mib:.0f} MB, cpu: {total_cores:.2f} cores (over 1 s)")
    if shares:
        print(f"{'service':<11} {'process':<34} {'rss':>8} {'share':>6} {'cores':>6}")
    for p in shares:
        role = p.role if p.processes == 1 else f"{p.role} x{p.processes}"
        print(f"{p.service:<11} {role[:34]:<34} {p.rss_mib:>6.0f}MB {p.share:>6.0%} {p.cores:>6.2f}")
    return 0


def cmd_logs(s: Settings, args) -> int:
    from streaming.runtime import manager

    files = [str(manager.process_of(s, svc).log_file) for svc in manager.selected(s, args.services or None)]
    files = [f for f in files if shutil.os.path.exists(f)]
    if not files:
        print(f"no logs yet under {s.logs_dir}")
        return 0
    tail = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + files
    return subprocess.call(tail)


def cmd_init(s: Settings, args) -> int:
    from streaming.clients.bootstrap import bootstrap

    for line in bootstrap(s, tables=not args.skip_spark).report():
        print(line)
    return 0


def cmd_reset(s: Settings, args) -> int:
    from streaming.runtime import manager

    manager.down(s)
    for path in {s.f1_state_dir, s.spark_checkpoint_path, s.delta_storage_path}:
        if "://" not in str(path):
            shutil.rmtree(path, ignore_errors=True)
            print(f"removed {path}")
        else:  # object storage may be shared, or hold more than this platform's tables
            print(f"kept {path} (not local: delete it in the store if you mean to)")
    return 0


def cmd_contracts_generate(s: Settings | None, args) -> int:
    from streaming.contracts.codegen import check, generate

    if args.check:
        stale = check()
        for path in stale:
            print(f"out of date: {path}")
        if stale:
            print("run `uv run f1 contracts generate` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for path in generate():
        print(f"wrote {path}")
    return 0


def cmd_contracts_check(s: Settings, args) -> int:
    from streaming.clients.registration import check_contracts

    results = check_contracts(s)
    for result in results:
        print(f"{'ok  ' if result.compatible else 'FAIL'} {result.subject}: {result.detail}")
    return 0 if all(r.compatible for r in results) else 1


def _stream_names(args) -> tuple[str, ...] | None:
    from streaming.settings import STREAM_QUERY_NAMES

    unknown = [n for n in args.queries if n not in STREAM_QUERY_NAMES]
    if unknown:
        raise SystemExit(f"unknown query {unknown[0]!r}; choose from {', '.join(STREAM_QUERY_NAMES)}")
    return tuple(args.queries) or None


def cmd_stream_run(s: Settings, args) -> int:
    from streaming.jobs import runner

    return runner.run(s, _stream_names(args), available_now=args.available_now)


def cmd_stream_start(s: Settings, args) -> int:
    from streaming.runtime import manager

    started = manager.up(s, ["streams"], timeout_s=args.timeout)
    print("streams: " + ("started" if started else "already running"))
    return cmd_stream_status(s, args)


def cmd_stream_stop(s: Settings, args) -> int:
    from streaming.runtime import manager

    stopped = manager.down(s, ["streams"])
    print("streams: " + ("stopped" if stopped else "were not running"))
    return 0


def cmd_stream_status(s: Settings, args) -> int:
    from streaming.jobs import runner

    statuses = runner.read_status(s)
    if not statuses:
        print("streams: no status yet (start them with `f1 stream start`, or let Dagster's sensors do it)")
        return 0
    from streaming.jobs.lake import QUERY_NAME as LAKE
    from streaming.observability.metrics import scrape
    from streaming.runtime.process import is_same_process

    for name, q in statuses.items():
        age = time.time() - q["updated_at"]
        alive = is_same_process(q["pid"], q.get("pid_start_time"))
        state = (
            q["state"]
            if alive or q["state"] in ("stopped", "failed")
            else f"dead ({q['state']} when last seen)"
        )
        rate = q.get("processed_rows_per_second") or 0
        print(
            f"  {name:<7} {state:<10} {q['owner']} (pid {q['pid']}, status {age:.0f} s old)"
            f"  batch {q['batch_id']}  {q.get('input_rows') or 0} rows  {rate:,.0f} rows/s"
            f"  last batch {q.get('batch_duration_ms')} ms"
        )
        if q.get("restarts"):  # failing: restarted since its last progress (in this process or by Dagster)
            restarts, error = q["restarts"], q.get("last_error")
            print(f"          {restarts} restarts since its last progress; last error: {error}")
        if name != LAKE or not alive:
            continue
        metrics = scrape(runner.metrics_port(s, (name,))) or scrape(s.metrics_exporter_port)
        totals = {
            dict(labels)["outcome"]: value
            for (metric, labels), value in metrics.items()
            if metric == "f1_records_total" and dict(labels).get("query") == LAKE
        }
        if totals:
            print("  silver since start: " + ", ".join(f"{v:,.0f} {k}" for k, v in sorted(totals.items())))
    return 0


def cmd_maintain(s: Settings, args) -> int:
    from streaming.clients.spark import get_spark
    from streaming.jobs.maintenance import maintain

    spark = get_spark(s, "f1-maintain")
    for r in maintain(spark, args.tables or None, args.retain_hours):
        print(
            f"{r.table}: {r.files_removed} files compacted into {r.files_added}, "
            f"{r.vacuumed} old files vacuumed ({r.seconds:.1f} s)"
        )
    return 0


def cmd_gold(s: Settings, args) -> int:
    from streaming.clients.dbt import cli

    return cli(s, args.args)


def cmd_bench(s: Settings | None, args) -> int:
    from streaming.bench.cli import main as bench_main

    return bench_main(args.args)


def cmd_dashboards_write(s: Settings | None, args) -> int:
    from streaming.observability.dashboards import write_dashboards

    for path in write_dashboards():
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


def _prometheus_url(s: Settings, args) -> str:
    return args.prometheus or f"http://127.0.0.1:{s.prometheus_port}"


def cmd_dashboards_check(s: Settings, args) -> int:
    from streaming.observability.dashboard_check import check

    results, missing = check(_prometheus_url(s, args))
    for r in results:
        state = "ok" if r.ok else (f"error: {r.error}" if r.error else "no data")
        print(f"{r.dashboard} / {r.panel}: {r.series} series, {state}  [{r.expr}]")
    for name in sorted(missing):
        print(f"metric never scraped: {name}")
    failing = sum(not r.ok for r in results)
    print(f"panel queries with data: {len(results) - failing} of {len(results)}")
    return 1 if failing or missing else 0


def cmd_dashboards_render(s: Settings, args) -> int:
    from streaming.observability.dashboard_check import render

    for path in render(_prometheus_url(s, args), args.out, minutes=args.minutes):
        print(f"wrote {path}")
    return 0


def cmd_env_example(s: Settings | None, args) -> int:
    sys.stdout.write(render_env_example())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="f1",
        description="f1-telemetry local platform",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start services and wait until they are healthy")
    _services_arg(p)
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for each service")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("wait", help="wait until services are healthy")
    _services_arg(p)
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for each service")
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser(
        "init", help="create topics, register the contracts, create the databases (idempotent)"
    )
    p.add_argument("--skip-spark", action="store_true", help="only create topics")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "status", help="show services, health and endpoints, and each process's memory, share and CPU"
    )
    _services_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("logs", help="print service logs")
    _services_arg(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep following")
    p.add_argument("-n", "--lines", type=int, default=50, help="lines per log")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("down", help="stop services")
    _services_arg(p)
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("reset", help="stop everything and delete all local state")
    p.set_defaults(func=cmd_reset)

    from streaming.simulator.cli import add_replay_parser, add_simulate_parser

    add_simulate_parser(sub)
    add_replay_parser(sub)

    p = sub.add_parser(
        "contracts", help="generate derived contract files, or check changes against the registry"
    )
    csub = p.add_subparsers(dest="contracts_command", required=True)
    g = csub.add_parser("generate", help="regenerate Python classes and JSON Schemas from proto/")
    g.add_argument("--check", action="store_true", help="fail if the committed files are out of date")
    g.set_defaults(func=cmd_contracts_generate, no_settings=True)
    c = csub.add_parser("check", help="test the working tree's contracts against the registry (BACKWARD)")
    c.set_defaults(func=cmd_contracts_check)

    p = sub.add_parser("stream", help="run, start, stop or inspect the lake streaming query")
    ssub = p.add_subparsers(dest="stream_command", required=True)
    r = ssub.add_parser("run", help="run the queries in this process until Ctrl-C (STREAM_QUERIES)")
    r.add_argument("queries", nargs="*", help="lake (default: STREAM_QUERIES)")
    r.add_argument("--available-now", action="store_true", help="drain what is there, then stop")
    r.set_defaults(func=cmd_stream_run)
    r = ssub.add_parser("start", help="start the queries as the supervised `streams` service")
    r.add_argument("--timeout", type=float, default=180, help="seconds to wait until healthy")
    r.set_defaults(func=cmd_stream_start)
    ssub.add_parser("stop", help="stop the `streams` service cleanly").set_defaults(func=cmd_stream_stop)
    ssub.add_parser("status", help="each query's latest progress").set_defaults(func=cmd_stream_status)

    p = sub.add_parser("maintain", help="compact (OPTIMIZE) and vacuum the Delta tables")
    p.add_argument("tables", nargs="*", help="tables (default: every bronze and silver table)")
    p.add_argument("--retain-hours", type=int, default=168, help="VACUUM retention (default 168)")
    p.set_defaults(func=cmd_maintain)

    p = sub.add_parser(
        "gold",
        help="run dbt on the gold project with the platform's Spark: `f1 gold build`, `f1 gold run -s "
        "lap_metrics`; `f1 gold env` prints the exports plain `dbt` needs",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_gold)

    p = sub.add_parser(
        "bench", help="benchmarks, each figure on its own line (`f1 bench --help`)", add_help=False
    )
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench, no_settings=True)

    p = sub.add_parser("dashboards", help="Grafana dashboards: regenerate, check against Prometheus, render")
    dsub = p.add_subparsers(dest="action", required=True)
    d = dsub.add_parser(
        "write",
        help="regenerate monitoring/grafana/dashboards/*.json from streaming/observability/dashboards.py",
    )
    d.set_defaults(func=cmd_dashboards_write, no_settings=True)
    for action, func, text in (
        (
            "check",
            cmd_dashboards_check,
            "run every panel's queries against Prometheus; exit 1 if any has no data",
        ),
        ("render", cmd_dashboards_render, "draw every panel from Prometheus into one PNG per dashboard"),
    ):
        d = dsub.add_parser(action, help=text)
        d.add_argument("--prometheus", help="Prometheus URL (default: the local one, PROMETHEUS_PORT)")
        d.set_defaults(func=func)
    d.add_argument("--out", type=Path, default=Path("docs/dashboards"), help="folder for the PNGs")
    d.add_argument("--minutes", type=int, default=30, help="time range to draw")

    p = sub.add_parser("env-example", help="print .env.example generated from the settings")
    p.set_defaults(func=cmd_env_example, no_settings=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = None if getattr(args, "no_settings", False) else Settings.from_env()
        return args.func(settings, args)
    except F1Error as error:
        print(f"f1 {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
