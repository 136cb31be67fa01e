"""Metrics of a streaming process' Spark driver: its JVM, and the size of the Delta tables it writes.

The broker, registry and metastore JVMs export their JVM metrics through the JMX exporter agent
(monitoring/jmx/). The Spark driver is started by PySpark, so its exporter is the streaming exporter
(streaming/observability/metrics.py), and these collectors read the same figures from the driver's MXBeans
over py4j, under the JMX exporter's names (jvm_memory_used_bytes, jvm_gc_collection_seconds,
process_cpu_seconds_total, ...), so one dashboard query covers every JVM of the platform.

Table sizes come from each table's Delta log (DESCRIBE DETAIL: no data read, and it works the same on
object storage), refreshed by a thread of their own: a scrape must not wait behind a Spark call.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

TABLE_SIZE_REFRESH_SECONDS = 60


class DriverJvmCollector(Collector):
    """Heap and non-heap memory, GC, threads and CPU of the driver JVM, read on each scrape."""

    def __init__(self, spark: SparkSession):
        self._jvm = spark.sparkContext._jvm
        self._pid: int | None = None

    def collect(self) -> Iterator:
        try:
            families = self._read()
        except Exception as error:  # the JVM is stopping: report nothing rather than fail the scrape
            log.debug("driver JVM metrics unavailable: %s", error)
            return
        yield from families

    def _read(self) -> list:
        factory = self._jvm.java.lang.management.ManagementFactory
        memory = factory.getMemoryMXBean()
        used = GaugeMetricFamily("jvm_memory_used_bytes", "Used bytes of a JVM memory area.", labels=["area"])
        committed = GaugeMetricFamily(
            "jvm_memory_committed_bytes", "Committed bytes of a JVM memory area.", labels=["area"]
        )
        maximum = GaugeMetricFamily(
            "jvm_memory_max_bytes", "Max bytes of a JVM memory area.", labels=["area"]
        )
        for area, usage in (
            ("heap", memory.getHeapMemoryUsage()),
            ("nonheap", memory.getNonHeapMemoryUsage()),
        ):
            used.add_metric([area], usage.getUsed())
            committed.add_metric([area], usage.getCommitted())
            maximum.add_metric([area], usage.getMax())
        gc = SummaryMetricFamily(
            "jvm_gc_collection_seconds", "Time spent in a JVM garbage collector in seconds.", labels=["gc"]
        )
        for collector in factory.getGarbageCollectorMXBeans():
            gc.add_metric(
                [collector.getName()], collector.getCollectionCount(), collector.getCollectionTime() / 1000
            )
        threads = factory.getThreadMXBean().getThreadCount()
        families = [
            used,
            committed,
            maximum,
            gc,
            GaugeMetricFamily("jvm_threads_current", "JVM threads.", value=threads),
        ]
        cpu_seconds = self._process_cpu_seconds()
        if cpu_seconds is not None:
            families.append(
                CounterMetricFamily(
                    "process_cpu_seconds", "CPU time of the driver JVM in seconds.", value=cpu_seconds
                )
            )
        return families

    def _process_cpu_seconds(self) -> float | None:
        """The driver JVM's user + system CPU time, from /proc (Linux; None elsewhere).

        Not from the OperatingSystemMXBean: py4j cannot call its com.sun.management methods on the JDK's
        internal implementation class (measured: "Method getProcessCpuTime([]) does not exist").
        """
        try:
            if self._pid is None:
                self._pid = int(self._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getPid())
            with open(f"/proc/{self._pid}/stat") as stat:
                # fields after the command name (which may hold spaces): utime and stime are 14th and 15th
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None


class DeltaTableSizeCollector(Collector):
    """`f1_delta_table_size_bytes` and `f1_delta_table_files` of the tables this process writes."""

    def __init__(
        self, spark: SparkSession, tables: Iterable[str], interval_s: float = TABLE_SIZE_REFRESH_SECONDS
    ):
        self._spark, self._tables, self._interval = spark, list(dict.fromkeys(tables)), interval_s
        self._sizes: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh_forever, name="f1-table-sizes", daemon=True)

    def start(self) -> DeltaTableSizeCollector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> None:
        for table in self._tables:
            try:
                detail = self._spark.sql(f"DESCRIBE DETAIL {table}").select("sizeInBytes", "numFiles").first()
            except Exception as error:  # not created yet, or the session is stopping
                log.debug("no size for %s: %s", table, error)
                continue
            self._sizes[table] = (int(detail.sizeInBytes or 0), int(detail.numFiles or 0))

    def _refresh_forever(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self._interval)

    def collect(self) -> Iterator:
        size = GaugeMetricFamily(
            "f1_delta_table_size_bytes",
            "Bytes of the table's current data files (its Delta log).",
            labels=["table"],
        )
        files = GaugeMetricFamily(
            "f1_delta_table_files", "Data files of the table's current version.", labels=["table"]
        )
        for table, (size_bytes, file_count) in sorted(self._sizes.items()):
            size.add_metric([table], size_bytes)
            files.add_metric([table], file_count)
        yield size
        yield files
