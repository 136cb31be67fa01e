"""Run a simulated session (or replay a recording) into Kafka and/or a recording file.

Pacing: `speed` 1 is real time, N is N times faster, 0 is as fast as possible. Ctrl-C (SIGINT) or SIGTERM
stops after the current tick: everything already produced is flushed, the recording is closed and the
ground truth of what was sent is written, so nothing is left half-sent.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streaming.contracts import SESSIONS_PROTOBUF, TELEMETRY_JSON, TELEMETRY_PROTOBUF, frame, topics
from streaming.contracts import session_pb2 as spb
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.simulator.encoding import JsonBlockEncoder, ProtobufBlockEncoder
from streaming.simulator.events import PER_SECOND_PER_CAR, EventSource
from streaming.simulator.faults import FaultInjector, FaultRates, Outgoing
from streaming.simulator.race import TICK_HZ, TICK_NS, Race, RaceConfig
from streaming.simulator.recording import Record, RecordingWriter, read_recording

if TYPE_CHECKING:
    from streaming.settings import Settings

NO_FAULTS = FaultRates()
# The platform producers' settings: durable (acks=all, idempotent), ordered per car, batched, compressed.
PRODUCER_CONFIG = {
    "acks": "all",
    "enable.idempotence": True,
    "compression.type": "lz4",
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
    # The Java client's partitioner, so that Kafka tools and Spark agree on a car's partition.
    "partitioner": "murmur2_random",
    # Delivery callbacks only for failures: a Python call per delivered record would halve throughput.
    "delivery.report.only.error": True,
}


class KafkaSink:
    """Produces records with the platform's producer settings and counts delivery failures.

    `target` is the platform's settings (their security profile included), or, for a plaintext broker,
    its bootstrap servers.
    """

    def __init__(self, target: Settings | str):
        from confluent_kafka import Producer

        from streaming.clients.security import kafka_config

        connection = {"bootstrap.servers": target} if isinstance(target, str) else kafka_config(target)
        self.producer = Producer({**connection, **PRODUCER_CONFIG})
        self.failed = 0

    def _on_delivery(self, error, _msg) -> None:
        if error is not None:
            self.failed += 1

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, on_delivery=self._on_delivery)
                return
            except BufferError:  # the local queue is full: let librdkafka deliver, then retry
                self.producer.poll(0.05)

    def poll(self) -> None:
        self.producer.poll(0)

    def close(self) -> None:
        remaining = self.producer.flush(120)
        if remaining:
            raise RuntimeError(f"{remaining} records were not delivered within 120 s")
        if self.failed:
            raise RuntimeError(f"{self.failed} records failed delivery")

    def queued(self) -> int:
        return len(self.producer)


@dataclass
class Progress:
    """What a run has done so far; read by the progress display from another thread."""

    total_events: int = 0
    sent: int = 0
    bytes: int = 0
    sim_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    lag_s: float = 0.0  # how far behind the requested pace the run is
    queued: int = 0
    done: bool = False

    def rate(self) -> float:
        return self.sent / max(time.monotonic() - self.started, 1e-9)


@dataclass
class RunResult:
    session_id: str
    events: int
    records_sent: int
    bytes_sent: int
    seconds: float
    stopped_early: bool
    truth_path: Path | None
    recording_path: Path | None
    counts: dict[str, int]


class StopFlag:
    """Set by SIGINT/SIGTERM while a run is in progress; the run stops after the current tick."""

    def __init__(self):
        self.event = threading.Event()
        self._previous = {}

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, lambda *_: self.event.set())
        return self

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def is_set(self) -> bool:
        return self.event.is_set()


def session_info(config: RaceConfig, race: Race) -> spb.SessionInfo:
    return spb.SessionInfo(
        session_id=config.session_id,
        circuit=race.track.name,
        circuit_length_m=race.track.length_m,
        session_type=spb.SessionType.Value(f"SESSION_TYPE_{config.session_type}"),
        session_date=config.session_date,
        start_time_unix_ns=config.start_time_ns,
        total_laps=config.laps,
        entries=[
            spb.Entry(
                car_number=e.car_number, driver_code=e.driver_code, driver_name=e.driver_name, team=e.team
            )
            for e in race.entries
        ],
        sector_end_m=list(race.track.sector_end_m),
        seed=config.seed,
    )


class _Pacer:
    """Sleeps so that simulated time advances at `speed` times wall time (0: no sleeping)."""

    def __init__(self, speed: float, progress: Progress):
        self.speed, self.progress = speed, progress
        self.start = time.monotonic()

    def wait(self, sim_seconds: float, stop: StopFlag) -> None:
        self.progress.sim_seconds = sim_seconds
        if self.speed <= 0:
            return
        target = self.start + sim_seconds / self.speed
        now = time.monotonic()
        self.progress.lag_s = max(0.0, now - target)
        if target > now:
            stop.event.wait(target - now)


def simulate(
    config: RaceConfig,
    schema_ids: dict[str, int],
    sink: KafkaSink | None,
    *,
    encoding: str = "protobuf",
    faults: FaultRates = NO_FAULTS,
    speed: float = 1.0,
    recording: Path | None = None,
    truth_path: Path | None = None,
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    on_tick: Callable[[int], None] | None = None,
    topic: str | None = None,
) -> RunResult:
    """Simulate a race and send its events; returns what was sent. See the module docstring for pacing.

    `topic` overrides the raw topic of the encoding (tests and backfills into a topic of their own).
    """
    progress = progress or Progress()
    stop = stop or StopFlag()
    race = Race(config)
    source = EventSource(race)
    json_encoding = encoding == "json"
    topic = topic or (topics.RAW_JSON if json_encoding else topics.RAW_PROTOBUF)
    contract = TELEMETRY_JSON if json_encoding else TELEMETRY_PROTOBUF
    schema_id = schema_ids[contract.subject]
    encoder = (
        JsonBlockEncoder(schema_id) if json_encoding else ProtobufBlockEncoder(schema_id, config.session_id)
    )
    injector = FaultInjector(faults, config.seed, json_encoding, schema_id)
    writer = (
        RecordingWriter(
            recording,
            {
                "session_id": config.session_id,
                "encoding": encoding,
                "schema_ids": schema_ids,
                "config": config.__dict__,
                "faults": faults.__dict__,
            },
        )
        if recording
        else None
    )
    progress.total_events = int(
        config.cars
        * sum(PER_SECOND_PER_CAR.values())
        * race.track.reference_lap_time_s()
        * config.laps
        * 1.07
    )
    first_ns = config.start_time_ns

    def send(topic_name: str, key: bytes, value: bytes, timestamp_ms: int, time_ns: int) -> None:
        if sink is not None:
            sink.send(topic_name, key, value)
        if writer is not None:
            writer.write(Record(time_ns - first_ns, timestamp_ms, topic_name, key, value))
        progress.sent += 1
        progress.bytes += len(value)

    def send_all(outgoing: list[Outgoing], time_ns: int) -> None:
        for record in outgoing:
            send(topic, record.key, record.value, record.timestamp_ms, time_ns)

    car_keys = [str(number).encode() for number in source.numbers.tolist()]

    started = time.monotonic()
    info = session_info(config, race)
    send(
        topics.SESSIONS,
        config.session_id.encode(),
        frame(schema_ids[SESSIONS_PROTOBUF.subject], info.SerializeToString()),
        first_ns // 1_000_000,
        first_ns,
    )
    pacer = _Pacer(speed, progress)
    stopped = False
    try:
        while not race.done:
            if stop.is_set():
                stopped = True
                break
            tick = race.tick_index
            time_ns = race.time_ns + TICK_NS
            system = race.tick()
            timestamp_ms = time_ns // 1_000_000
            for block in source.tick_blocks(tick, time_ns, system):
                keys = [car_keys[car] for car in block.car.tolist()]
                keys, values = injector.apply(block, keys, encoder.encode(block), tick, timestamp_ms)
                if writer is None:  # the hot path: straight to librdkafka (or nowhere, to measure)
                    if sink is not None:
                        _produce_block(sink, topic, keys, values, timestamp_ms)
                    progress.sent += len(values)
                    progress.bytes += sum(map(len, values))
                else:
                    for key, value in zip(keys, values, strict=True):
                        send(topic, key, value, timestamp_ms, time_ns)
            send_all(injector.due(tick), time_ns)
            if sink is not None and tick % 10 == 0:
                sink.poll()
                progress.queued = sink.queued()
            if on_tick:
                on_tick(tick)
            pacer.wait((tick + 1) / TICK_HZ, stop)
        # What is still held back goes out when it is due, after the race: late is late.
        for record in injector.due(None):
            if stop.is_set():
                break
            pacer.wait(record.due_tick / TICK_HZ, stop)
            send_all([record], first_ns + record.due_tick * TICK_NS)
    finally:
        if writer is not None:
            writer.close()
        if sink is not None:
            sink.close()
        progress.done = True
    counts = {EVENT_TYPE_NAMES[k]: v for k, v in source.counts.items()}
    if truth_path is not None:
        write_ground_truth(truth_path, config, race, info, counts, injector, complete=not stopped)
    return RunResult(
        config.session_id,
        sum(counts.values()),
        progress.sent,
        progress.bytes,
        time.monotonic() - started,
        stopped,
        truth_path,
        recording,
        counts,
    )


def _produce_block(sink: KafkaSink, topic: str, keys: list[bytes], values: list[bytes], ts_ms: int) -> None:
    """Produce a block's records in order with one call into librdkafka (`produce_batch`).

    Records carry no explicit timestamp (batches cannot): Kafka's CreateTime is when they were produced,
    which keeps retention honest for backfills of old sessions; the event time is in the payload.
    When the local queue is full, librdkafka refuses records (each marked with `_error`) and queues none
    after the first refusal: deliver some, then send the refused tail again, in order.
    """
    batch = [{"key": k, "value": v} for k, v in zip(keys, values, strict=True)]
    while batch:
        queued = sink.producer.produce_batch(topic, batch)
        if queued == len(batch):
            return
        refused = [m for m in batch if "_error" in m]
        if len(refused) != len(batch) - queued or any("_error" not in m for m in batch[queued:]):
            raise RuntimeError("librdkafka queued records after refusing one: per-car order would break")
        for message in refused:
            del message["_error"]
        batch = refused
        sink.producer.poll(0.05)


def write_ground_truth(
    path: Path,
    config: RaceConfig,
    race: Race,
    info: spb.SessionInfo,
    counts: dict,
    injector: FaultInjector,
    complete: bool,
) -> None:
    """What really happened, for tests and for checking gold: laps, sectors, stops, stints, faults."""
    from google.protobuf import json_format

    truth = {
        "complete": complete,
        "session": json_format.MessageToDict(info, preserving_proto_field_name=True),
        "config": config.__dict__,
        "event_counts": counts,
        "laps": race.truth.laps,
        "pit_stops": race.truth.pit_stops,
        "stints": race.truth.stints + _open_stints(race) if not complete else race.truth.stints,
        "classification": race.truth.classification,
        "overtakes": race.truth.overtakes,
        "faults": injector.summary(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=1))


def _open_stints(race: Race) -> list[dict]:
    """Stints still running when a run was stopped early."""
    return [
        {
            "car_number": race.entries[c].car_number,
            "stint": int(race.stint_index[c]) + 1,
            "compound": int(race.state.compound[c]),
            "start_lap": int(race.stint_start_lap[c]),
            "end_lap": None,
            "laps": None,
        }
        for c in range(race.n)
        if not race.state.finished[c]
    ]


def replay(
    path: Path,
    sink: KafkaSink,
    *,
    speed: float = 1.0,
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    expected_schema_ids: dict[str, int] | None = None,
) -> int:
    """Send a recording's records, unchanged, at `speed` (0: as fast as possible); returns records sent."""
    progress = progress or Progress()
    stop = stop or StopFlag()
    header, records = read_recording(path)
    if expected_schema_ids is not None:
        differing = {s: i for s, i in header["schema_ids"].items() if expected_schema_ids.get(s) != i}
        if differing:
            raise ValueError(
                f"the recording's values reference schema ids {differing}, which this registry does not give "
                f"those subjects ({ {s: expected_schema_ids.get(s) for s in differing} }); replaying would "
                "mislabel them. Replay into the registry it was recorded with, or re-simulate."
            )
    pacer = _Pacer(speed, progress)
    try:
        for record in records:
            if stop.is_set():
                break
            pacer.wait(record.offset_ns / 1e9, stop)
            sink.send(record.topic, record.key, record.value)
            progress.sent += 1
            progress.bytes += len(record.value)
            if progress.sent % 1000 == 0:
                sink.poll()
                progress.queued = sink.queued()
    finally:
        sink.close()
        progress.done = True
    return progress.sent
