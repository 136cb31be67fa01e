"""Helpers shared by tests that drive a simulated session through the streaming jobs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from streaming.clients.catalog import create_databases
from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.contracts import topics
from streaming.contracts.topics import TopicSpec
from streaming.jobs import lake
from streaming.simulator.race import RaceConfig
from streaming.simulator.recording import read_recording
from streaming.simulator.runner import KafkaSink, simulate


def drain(spark, settings, checkpoint, app_id, **options) -> None:
    """Run the lake query available-now from `checkpoint` until it has drained its topics."""
    lake.start(
        spark, settings, available_now=True, checkpoint=str(checkpoint), app_id=app_id, **options
    ).awaitTermination()


class RaceLanding:
    """A simulated race landed in bronze and silver: its records go to a raw topic of this landing's own,
    then through the lake query (available-now, in the tests' SparkSession).

    Create the topics, contracts and databases first (idempotent).
    """

    def __init__(self, spark, settings, tmp: Path):
        self.spark, self.settings, self.tmp = spark, settings, tmp
        create_topics(settings)
        self.schema_ids = register_contracts(settings)
        create_databases(settings)
        self.topic = f"g{uuid.uuid4().hex[:6]}.{topics.RAW_PROTOBUF}"
        create_topics(settings, [TopicSpec(self.topic, 3, {})])
        self.run = uuid.uuid4().hex[:6]

    def simulate(self, config: RaceConfig, **options) -> tuple[dict, list]:
        """Simulate the race as fast as possible into a recording (not Kafka): its truth and records."""
        recording, truth_path = self.tmp / "race.f1rec", self.tmp / "truth.json"
        simulate(
            config, self.schema_ids, None, speed=0, recording=recording, truth_path=truth_path, **options
        )
        _, records = read_recording(recording)
        return json.loads(truth_path.read_text()), list(records)

    def land(self, records) -> None:
        """Send `records` to this landing's topic, then drain the lake query (from its checkpoint)."""
        s, tmp = self.settings, self.tmp
        sink = KafkaSink(s.kafka_bootstrap_servers)
        for record in records:  # the recording names the default raw topic; this landing has its own
            topic = self.topic if record.topic == topics.RAW_PROTOBUF else record.topic
            sink.send(topic, record.key, record.value)
        sink.close()
        drain(self.spark, s, tmp / "lake", f"lake-{self.run}", subscribe=[self.topic], enriched_topic=None)
