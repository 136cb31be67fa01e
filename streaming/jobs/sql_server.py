"""The Spark SQL (Thrift) server the streaming application serves, for gold's dbt builds.

Gold's `dbt build` used to start a Spark driver of its own every few minutes (dbt-spark's session method):
a JVM of ~1 GB whose start, cold JIT and fresh Delta snapshots took most of a build beside the streams.
The streams' driver is already warm and already holds silver's snapshot, so it serves Spark's Thrift
server (spark-hive-thriftserver, part of pyspark) on loopback at SPARK_THRIFT_PORT, and dbt connects to
it (`streaming.clients.dbt.gold_target`, dbt-spark's thrift method). Each dbt connection is a Spark
session of its own (its settings never reach the streams'), and its statements run in the `gold`
fair-scheduler pool, weighted below the streams' pool (streaming/clients/spark-fair-pools.xml).

The port and the bind address are static settings of the driver (`spark_conf`): Hive reads them when the
driver starts, not from the session.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from streaming.clients.probes import tcp_open
from streaming.clients.spark import GOLD_SQL_POOL, THRIFT_HOST
from streaming.settings import Settings


@contextlib.contextmanager
def serving_sql(spark, s: Settings) -> Iterator[bool]:
    """Serve Spark SQL over Thrift from `spark`'s driver while the block runs; yields whether it does.

    A port already taken (another streaming application on this host) is no error: the streams go on,
    and gold's builds go where the port leads or start their own Spark.
    """
    if tcp_open(THRIFT_HOST, s.spark_thrift_port, timeout_s=0.5):
        print(f"gold SQL: port {s.spark_thrift_port} is taken, not served (SPARK_THRIFT_PORT)", flush=True)
        yield False
        return
    try:
        server = spark._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(
            spark._jsparkSession.sqlContext()
        )
    except Exception as error:  # the streams matter more: gold builds start a Spark of their own instead
        print(f"gold SQL: the Thrift server did not start; gold starts its own Spark: {error}", flush=True)
        yield False
        return
    where = f"{THRIFT_HOST}:{s.spark_thrift_port}"
    print(f"gold SQL: Spark's Thrift server on {where}, scheduler pool {GOLD_SQL_POOL}", flush=True)
    try:
        yield True
    finally:
        try:
            server.stop()
        except Exception as error:  # the JVM may be going down with the run: nothing left to stop
            print(f"gold SQL: stopping the Thrift server: {error}", flush=True)
