"""The local services: how to prepare, start and probe each one.

Every service binds to 127.0.0.1 on the ports the settings name, keeps its data under
`<F1_STATE_DIR>/data/<service>` and its log in `<F1_STATE_DIR>/logs/<service>.log`.

One module per service beside this one; SERVICES lists them in start order (settings.SERVICE_NAMES).
"""

from __future__ import annotations

from streaming.runtime.kafka import Kafka
from streaming.runtime.metastore import Metastore
from streaming.runtime.monitoring import NodeExporter, Prometheus, Pushgateway
from streaming.runtime.orchestrator import Dagster
from streaming.runtime.platform_processes import Simulator, Streams
from streaming.runtime.schema_registry import SchemaRegistry
from streaming.runtime.service import Service
from streaming.runtime.spark_cluster import SparkMaster, SparkWorker
from streaming.settings import SERVICE_NAMES

SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Kafka(),
        SchemaRegistry(),
        Metastore(),
        SparkMaster(),
        SparkWorker(),
        NodeExporter(),
        Pushgateway(),
        Prometheus(),
        Dagster(),
        Simulator(),
        Streams(),
    )
}
assert tuple(SERVICES) == SERVICE_NAMES, "SERVICES and settings.SERVICE_NAMES disagree"
