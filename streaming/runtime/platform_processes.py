"""The platform's own processes: the race simulator and the streaming jobs."""

from __future__ import annotations

import sys

from streaming.clients.probes import http_ok
from streaming.runtime.process import ManagedProcess
from streaming.runtime.service import Service
from streaming.settings import Settings


class Simulator(Service):
    """`f1 simulate --loop`: race after race into Kafka at SIMULATOR_SPEED, with the SIMULATOR_* settings."""

    name, title, variable = "simulator", "Race simulator", "SIMULATOR_SPEED"

    def endpoint(self, s: Settings) -> str:
        return f"{s.simulator_cars} cars -> {s.kafka_bootstrap_servers}"

    def prepare(self, s: Settings) -> None:
        # Its topics and schemas must exist before the first record (the same as `f1 init` does).
        from streaming.clients.bootstrap import bootstrap

        bootstrap(s, tables=False)

    def command(self, s: Settings) -> list[str]:
        return [sys.executable, "-m", "streaming.cli", "simulate", "--loop", "--quiet"]

    def probe(self, s: Settings) -> str | None:
        alive = ManagedProcess(self.name, s.run_dir, s.logs_dir).child_pid() is not None
        return None if alive else "not running"


class Streams(Service):
    """`f1 stream run`: the lake query (STREAM_QUERIES) in one Spark application."""

    name, title, variable = "streams", "Streaming jobs (Spark)", "METRICS_EXPORTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.metrics_exporter_port}/metrics ({', '.join(s.stream_queries)})"

    def command(self, s: Settings) -> list[str]:
        return [sys.executable, "-m", "streaming.cli", "stream", "run"]

    def probe(self, s: Settings) -> str | None:
        # The exporter answers once the SparkSession is up and the queries have started.
        return http_ok(f"http://127.0.0.1:{s.metrics_exporter_port}/metrics")
