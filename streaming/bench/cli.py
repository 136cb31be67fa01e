"""`make bench` / `f1 bench`: the platform's throughput against Kafka's own perf tools.

Benchmarks (each starts a throwaway broker and registry on free loopback ports, or uses the configured
platform with --use-running):
  produce  the simulator as fast as possible into Kafka (50 cars, Protobuf), against
           kafka-producer-perf-test with records of the same size and the same producer settings;
  kafka    plain confluent-kafka produce and consume of telemetry-sized records against
           kafka-producer-perf-test and kafka-consumer-perf-test;
  pipeline events/s through the lake query (bronze, silver, quarantine) against kafka-consumer-perf-test
           on the same topic, then p50/p99 event-to-silver latency seen by a reader of silver's Delta log,
           commits and files per batch, CPU and RSS, with 50 cars at the nominal rate
           (streaming/bench/pipeline.py);
  gold     `dbt build` of the gold layer over a simulated race-hour of 50 cars in silver (~20 M events),
           with each model's time and the deviation from the simulator's truth (streaming/bench/gold.py);
  gold-trail  on the running platform (make up, real-time race) only: how long after a lap's end it
           appears in gold.lap_metrics, polled from outside (streaming/bench/gold_trail.py).
  platform on `make up`'s platform (started if it is not running, 50 cars in real time): every
           process's RSS and CPU, by service and role, and the gold trail, for --minutes (20)
           (streaming/bench/platform.py). `make bench-platform`.
Each figure is printed on its own line with its unit; --json also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from streaming.bench.gold_trail import UNITS as GOLD_TRAIL_UNITS
from streaming.bench.kafka import run_kafka_benchmarks, run_produce_benchmark
from streaming.runtime.ephemeral import ephemeral_platform
from streaming.settings import Settings

_UNITS = {
    "average record size": "bytes",
    "simulated events": "events",
    "preloaded events": "events",
    "events measured at nominal rate": "events",
    "p50 event-to-silver latency": "ms",
    "p99 event-to-silver latency": "ms",
    "max event-to-silver latency": "ms",
    "p99 event-to-silver latency, second half of the run": "ms",
    "lake batch time at nominal rate, median": "s",
    "delta commits per batch at nominal rate": "commits",
    "delta files per batch at nominal rate": "files",
    "stream cpu at nominal rate": "cores",
    "stream peak rss at nominal rate": "MiB",
    "silver stage time at nominal rate, median": "s",
    "silver rows per batch at nominal rate, median": "rows",
    "simulator produce throughput": "MB/s",
    **GOLD_TRAIL_UNITS,
}


def _unit(name: str) -> str | None:
    """The unit of a figure; the latency figures of a run with fewer cars have those of the nominal run."""
    from streaming.bench.platform import unit as platform_unit

    nominal = re.sub(r" with \d+ cars", " at nominal rate", re.sub(r", \d+ cars$", "", name))
    return _UNITS.get(nominal) or platform_unit(name)


def _print(results: dict[str, float]) -> None:
    for name, value in results.items():
        unit = _unit(name)
        if unit in ("laps", "samples", "checks") or (unit == "commits" and "per batch" not in name):
            print(f"{name}: {value:.0f} {unit}")
        elif unit in ("commits", "files", "cores"):
            print(f"{name}: {value:.2f} {unit}")
        elif "share" in name:
            print(f"{name}: {value:.0%}")
        elif name.endswith("micro-batches"):
            print(f"{name}: {value:.0f} batches")
        elif "ratio" in name:
            print(f"{name}: {value:.2f}")
        elif unit is not None:
            print(f"{name}: {value:,.1f} {unit}" if unit in ("MB/s", "s") else f"{name}: {value:.0f} {unit}")
        else:
            print(f"{name}: {value:.0f} events/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="f1 bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "which",
        nargs="?",
        choices=("all", "produce", "kafka", "pipeline", "gold", "gold-trail", "platform"),
        default="all",
        help="gold-trail and platform measure make up's platform; the others start their own services",
    )
    parser.add_argument("--events", type=int, default=500_000, help="records per run of the kafka benchmark")
    parser.add_argument("--record-size", type=int, default=160, help="bytes per record (kafka benchmark)")
    parser.add_argument("--cars", type=int, default=50, help="cars (produce and gold benchmarks)")
    parser.add_argument("--laps", type=int, default=2, help="laps (produce benchmark)")
    parser.add_argument(
        "--pipeline-events", type=int, default=1_000_000, help="events preloaded (pipeline benchmark)"
    )
    parser.add_argument(
        "--latency-seconds", type=int, default=180, help="seconds at the nominal rate (pipeline benchmark)"
    )
    parser.add_argument(
        "--trigger-seconds",
        type=float,
        default=None,
        help="the lake query's trigger interval in the latency runs (STREAM_TRIGGER_SECONDS; 0: none)",
    )
    parser.add_argument(
        "--floor-seconds",
        type=int,
        default=120,
        help="seconds with two cars, the latency floor of a near-empty batch (pipeline benchmark)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="minutes of racing in silver (gold benchmark, 60); minutes measured (gold-trail, platform: 20)",
    )
    parser.add_argument("--use-running", action="store_true", help="use the configured platform (make up)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    def run(settings: Settings) -> dict[str, float]:
        results: dict[str, float] = {}

        def measured(figures: dict[str, float]) -> None:  # print each benchmark's figures as they come
            _print(figures)
            results.update(figures)

        if args.which in ("all", "produce"):
            measured(run_produce_benchmark(settings, args.cars, args.laps))
        if args.which in ("all", "kafka"):
            measured(run_kafka_benchmarks(settings, args.events, args.record_size))
        if args.which in ("all", "pipeline"):
            from streaming.bench.pipeline import FLOOR_CARS, run_latency, run_throughput

            measured(run_throughput(settings, args.pipeline_events))
            trigger = args.trigger_seconds
            measured(run_latency(settings, args.latency_seconds, trigger_seconds=trigger))
            measured(run_latency(settings, args.floor_seconds, cars=FLOOR_CARS, trigger_seconds=trigger))
        if args.which in ("all", "gold"):
            from streaming.bench.gold import print_figures, run_gold_benchmark

            figures = run_gold_benchmark(settings, args.cars, args.minutes or 60)
            print_figures(figures)
            results.update(figures)
        if args.which == "gold-trail":
            from streaming.bench.gold_trail import run_gold_trail

            measured(run_gold_trail(settings, args.minutes or 20))
        if args.which == "platform":
            from streaming.bench.platform import run_platform

            measured(run_platform(settings, args.minutes or 20))
        return results

    services = ["kafka", "registry"] if args.which != "gold" else []
    if args.which in ("all", "pipeline", "gold"):
        services.append("metastore")

    if args.use_running or args.which in ("gold-trail", "platform"):
        results = run(Settings.from_env())
    else:
        with (
            tempfile.TemporaryDirectory(prefix="f1-bench-") as state,
            ephemeral_platform(
                Path(state),
                services,
                KAFKA_TOPIC_PARTITIONS="6",
                SPARK_DRIVER_MEMORY="6g",
                SPARK_SHUFFLE_PARTITIONS="4",
            ) as settings,
        ):
            results = run(settings)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
