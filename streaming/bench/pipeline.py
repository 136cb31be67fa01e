"""`f1 bench pipeline`: events/s through the lake query, against Kafka's own consumer, and latency.

1. Throughput: a simulated race (50 cars, Protobuf) is preloaded into the raw topic; the raw consume rate
   of that topic is measured with kafka-consumer-perf-test; then the lake query drains the topic into
   bronze and silver (available-now, as `f1 stream run --available-now` does). Printed: the pipeline's
   sustained rate and its ratio to the raw consume rate.
   Also printed, with a warm JVM: Spark's own Kafka source reading the same topic into the `noop` sink,
   the most any Spark query of the topic can do on this machine, and the same read with bronze's
   decoding (nothing written), the most any pipeline that decodes the records can do.
2. Latency: the simulator streams 50 cars at the nominal rate (real time) while the lake query runs
   continuously with the configured trigger (or `--trigger-seconds`). Measured from outside the pipeline:
   a reader polls the silver table's Delta log (`streaming.bench.visibility`), and each accepted event's
   latency is the time the commit holding it was first seen minus its event time. Printed: p50, p99 and
   max; the Delta commits and files each batch makes (bronze, silver, quarantine); the stream's CPU
   (cores: CPU seconds per second of this process and its Spark JVM) and peak RSS. Then the same with
   two cars (110 events/s): micro-batches with next to no rows, i.e. the floor that the query's fixed
   cost per batch sets, whatever the rate.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

from streaming.contracts import topics
from streaming.settings import PROJECT_ROOT, Settings

LAP_EVENTS_50_CARS = 520_000  # about one lap of Monza for 50 cars


def _prepare(s: Settings):
    from streaming.clients.catalog import create_databases
    from streaming.clients.kafka_admin import create_topics
    from streaming.clients.registration import register_contracts

    create_topics(s)
    ids = register_contracts(s)
    create_databases(s)
    return ids


def _silver_rows(spark, session_id: str) -> int:
    from pyspark.sql import functions as F

    from streaming.jobs import silver

    return spark.table(silver.SILVER_TABLE).where(F.col("session_id") == session_id).count()


def _time_shares(outcomes: list, total_s: float, label: str) -> dict[str, float]:
    """Where silver's time went, summed over its micro-batches, as shares of `total_s`."""
    steps: dict[str, float] = {}
    for outcome in outcomes:
        for step, seconds in outcome.step_seconds.items():
            steps[step] = steps.get(step, 0.0) + seconds
    return {f"{label}: {step}": seconds / total_s for step, seconds in steps.items()}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def run_throughput(s: Settings, events: int) -> dict[str, float]:
    from streaming.bench.kafka import bench_kafka_consumer_perf_test
    from streaming.clients.spark import get_spark
    from streaming.jobs import lake, silver
    from streaming.simulator.race import RaceConfig
    from streaming.simulator.runner import KafkaSink, simulate

    ids = _prepare(s)
    laps = max(1, round(events / LAP_EVENTS_50_CARS))
    config = RaceConfig(cars=50, laps=laps, seed=77, start_time_ns=time.time_ns() - 6 * 3600 * 10**9)
    sent = simulate(config, ids, KafkaSink(s), speed=0)
    raw_rate = bench_kafka_consumer_perf_test(s, topics.RAW_PROTOBUF, sent.records_sent - 1)

    spark = get_spark(s, "f1-bench-pipeline")
    run = uuid.uuid4().hex[:6]
    outcomes: list[silver.BatchOutcome] = []
    t0 = time.perf_counter()
    lake.start(
        spark, s, available_now=True, app_id=f"bench-lake-{run}", on_outcome=outcomes.append
    ).awaitTermination()
    t2 = time.perf_counter()
    spark_read_rate, decode_rate = _spark_read_rates(spark, s, sent.records_sent)
    landed = _silver_rows(spark, config.session_id)
    if landed != sent.events:
        raise RuntimeError(f"silver holds {landed} of the {sent.events} events sent")
    pipeline = sent.events / (t2 - t0)
    profile = _time_shares(outcomes, t2 - t0, "lake time share")
    return {
        "preloaded events": float(sent.events),
        "kafka-consumer-perf-test (raw topic)": raw_rate,
        "pipeline (kafka -> bronze + silver, sustained)": pipeline,
        "pipeline ratio to kafka-consumer-perf-test": pipeline / raw_rate,
        "spark kafka source alone (raw topic -> noop sink)": spark_read_rate,
        "spark kafka source ratio to kafka-consumer-perf-test": spark_read_rate / raw_rate,
        "bronze decoding alone (raw topic -> decoded rows -> noop sink)": decode_rate,
        "lake micro-batches": float(len(outcomes)),
        **profile,
    }


def _spark_read_rates(spark, s: Settings, records: int) -> tuple[float, float]:
    """Records/s of batch reads of the raw topic into Spark's `noop` sink: the Kafka source alone, and with
    bronze's decoding (nothing written). Ceilings of any pipeline of this topic on this machine."""
    from streaming.clients.security import spark_kafka_options
    from streaming.jobs import bronze

    def rate(frame) -> float:
        started = time.perf_counter()
        frame.write.format("noop").mode("overwrite").save()
        return records / (time.perf_counter() - started)

    raw = (
        spark.read.format("kafka")
        .options(**spark_kafka_options(s))
        .option("subscribe", topics.RAW_PROTOBUF)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
    return rate(raw), rate(bronze.decode(raw))


NOMINAL_CARS = 50
FLOOR_CARS = 2  # 110 events/s: batches with next to no rows


class ProcessSampler:
    """CPU seconds and resident memory of this process and its children (the Spark driver's JVM), sampled
    in a thread; the simulator, a producer, is left out by its pid."""

    def __init__(self, exclude: set[int], interval_s: float = 1.0):
        import psutil

        self._root, self._exclude, self._interval = psutil.Process(), exclude, interval_s
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="f1-process-sampler", daemon=True)

    def _processes(self) -> list:
        return [p for p in [self._root, *self._root.children(recursive=True)] if p.pid not in self._exclude]

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self._processes():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except Exception:  # a child that ended in between
                continue
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = 0
            for process in self._processes():
                try:
                    rss += process.memory_info().rss
                except Exception:
                    continue
            self.peak_rss = max(self.peak_rss, rss)

    def start(self) -> ProcessSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def run_latency(
    s: Settings, seconds: int, cars: int = NOMINAL_CARS, trigger_seconds: float | None = None
) -> dict[str, float]:
    """The lake query at `cars` cars in real time for `seconds`, measured from outside: a reader polling
    the silver table's Delta log sees each event (`streaming.bench.visibility`). `trigger_seconds`: the
    query's trigger interval (None: STREAM_TRIGGER_SECONDS; 0: none, a batch as soon as the last ends)."""
    from streaming.bench.visibility import LogWatcher, quantile
    from streaming.clients.delta_read import local_table_path
    from streaming.clients.spark import get_spark
    from streaming.jobs import bronze, lake, silver

    _prepare(s)
    spark = get_spark(s, "f1-bench-latency")
    run = uuid.uuid4().hex[:6]
    outcomes: list[silver.BatchOutcome] = []
    # from the latest offsets: steady state, not the throughput run's backlog
    query = lake.start(
        spark,
        s,
        app_id=f"latency-lake-{run}",
        on_outcome=outcomes.append,
        starting_offsets="latest",
        trigger_seconds=trigger_seconds,
    )
    tables = [bronze.TABLE, silver.SILVER_TABLE, silver.QUARANTINE_TABLE]
    started_ns = time.time_ns()
    watcher = LogWatcher(
        {t: local_table_path(s, t) for t in tables}, silver.SILVER_TABLE, since_ns=started_ns
    ).start()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "streaming.cli", "simulate", "--speed", "1", "--cars", str(cars), "--quiet"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **s.as_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sampler = ProcessSampler(exclude={simulator.pid}).start()
    cpu_before, clock = sampler.cpu_seconds(), time.monotonic()
    try:
        time.sleep(seconds)
    finally:
        cpu = sampler.cpu_seconds() - cpu_before
        elapsed = time.monotonic() - clock
        sampler.stop()
        simulator.terminate()
        simulator.wait(60)
        # the micro-batches with rows (the last 100 Spark keeps): how long one takes at this rate
        progress = query.recentProgress
        lake_batches = [p["durationMs"]["triggerExecution"] / 1000 for p in progress if p["numInputRows"]]
        batches_run = max(1, len(outcomes))  # every batch with rows since the start
        time.sleep(2)  # the last commits' first sight
        watcher.stop()
        query.stop()
    latencies = watcher.visibility.latencies_ms
    second_half_ns = started_ns + seconds * 10**9 // 2  # the steady state, after the query's cold start
    steady = [
        ms for ms, ns in zip(latencies, watcher.visibility.event_ns, strict=True) if ns >= second_half_ns
    ]
    commits = sum(log.data_commits for log in watcher.logs.values())
    files = sum(log.files for log in watcher.logs.values())
    batches = [o for o in outcomes if o.valid_total]
    batch_seconds = [sum(o.step_seconds.values()) for o in batches]
    at = "at nominal rate" if cars == NOMINAL_CARS else f"with {cars} cars"
    figures = {
        f"events measured {at}": float(len(latencies)),
        "p50 event-to-silver latency": quantile(latencies, 0.5),
        "p99 event-to-silver latency": quantile(latencies, 0.99),
        "max event-to-silver latency": max(latencies, default=float("nan")),
        "p99 event-to-silver latency, second half of the run": quantile(steady, 0.99),
        f"lake batch time {at}, median": _median(lake_batches),
        f"delta commits per batch {at}": commits / batches_run,
        f"delta files per batch {at}": files / batches_run,
        f"stream cpu {at}": cpu / elapsed,
        f"stream peak rss {at}": sampler.peak_rss / 2**20,
        f"silver stage time {at}, median": _median(batch_seconds),
        f"silver rows per batch {at}, median": _median([float(o.input_rows) for o in batches]),
        **_time_shares(batches, sum(batch_seconds) or 1.0, f"silver stage time share {at}"),
    }
    if cars == NOMINAL_CARS:
        return figures
    return {name if at in name else f"{name}, {cars} cars": value for name, value in figures.items()}
