"""Fault injection: each kind of bad input the pipeline must survive, at a rate per event.

Kinds and what they do to an event:
  duplicate        the same record is sent again, 0-60 s of event time later (far apart, too)
  out_of_order     the record is held back 0.2-3 s of event time (still inside a watermark)
  late             the record is held back 10 minutes of event time (beyond any watermark)
  truncated        the record's bytes are cut in half
  wrong_schema_id  the wire-format schema id points at a schema that does not exist
  out_of_range     one payload value is impossible (e.g. 1,500 km/h, 250 % wear)
  missing_field    a required field is absent (event_id, session_id or the payload)
  bad_json         the JSON text is broken (JSON encoding only)
  clock_skew       the event time is off by 1-6 hours, into the future or before the session

An event gets at most one fault. What was injected, with the affected event ids, is part of the
ground truth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from streaming.contracts import frame, unframe
from streaming.settings.parsers import FaultRates
from streaming.simulator.encoding import message_to_json, messages
from streaming.simulator.events import (
    AERODYNAMICS,
    DYNAMICS,
    EVENT_TYPE_NAMES,
    POSITION,
    POWER_UNIT,
    SYSTEM,
    TIRE,
    EventBlock,
)
from streaming.simulator.race import TICK_HZ

UNREGISTERED_SCHEMA_ID = 2_000_000_000
LATE_DELAY_S = 600.0
# (field, impossible value) per event type, for out_of_range.
_OUT_OF_RANGE = {
    DYNAMICS: ("speed_kmh", 1500.0),
    POSITION: ("lap_distance_m", -250.0),
    POWER_UNIT: ("fuel_remaining_kg", -5.0),
    TIRE: ("wear_pct", 250.0),
    AERODYNAMICS: ("downforce_n", -1e6),
    SYSTEM: ("pit_stop_duration_s", -1.0),
}
# The payload field of each event type is named like the type.
_PAYLOAD_FIELD = EVENT_TYPE_NAMES


@dataclass
class Outgoing:
    """A record to send: its topic's role, key, value and the tick at which it is due."""

    due_tick: int
    key: bytes
    value: bytes
    timestamp_ms: int


class FaultInjector:
    """Applies faults to encoded blocks; keeps the delayed records until they are due."""

    def __init__(self, rates: FaultRates, seed: int, json_encoding: bool, schema_id: int):
        self.rates = rates
        self.rng = np.random.default_rng(seed + 7919)
        self.json_encoding = json_encoding
        self.schema_id = schema_id
        kinds = [(k, v) for k, v in asdict(rates).items() if v > 0 and (k != "bad_json" or json_encoding)]
        self.kinds = [k for k, _ in kinds]
        self.thresholds = np.cumsum([v for _, v in kinds]) if kinds else np.array([])
        self.counts = dict.fromkeys(asdict(rates), 0)
        self.event_ids: dict[str, list[str]] = {k: [] for k in asdict(rates)}
        self.delayed: list[Outgoing] = []

    def apply(
        self, block: EventBlock, keys: list[bytes], values: list[bytes], tick: int, timestamp_ms: int
    ) -> tuple[list[bytes], list[bytes]]:
        """(keys, values) of the block to send now; delayed records are kept for `due()`.

        Without faults this returns its inputs untouched: the hot path allocates nothing per record.
        """
        if not self.kinds:
            return keys, values
        draws = self.rng.random(len(values))
        hit = np.nonzero(draws < self.thresholds[-1])[0].tolist()
        if not hit:
            return keys, values
        keys, values, dropped = list(keys), list(values), set()
        for i in hit:
            kind = self.kinds[int(np.searchsorted(self.thresholds, draws[i], side="right"))]
            self.counts[kind] += 1
            self.event_ids[kind].append(block.event_ids[i].decode())
            record = self._fault(kind, block, i, Outgoing(tick, keys[i], values[i], timestamp_ms), tick)
            if record is None:
                dropped.add(i)
            else:
                values[i] = record.value
        if dropped:
            keep = [i for i in range(len(values)) if i not in dropped]
            keys, values = [keys[i] for i in keep], [values[i] for i in keep]
        return keys, values

    def _fault(self, kind: str, block: EventBlock, i: int, record: Outgoing, tick: int) -> Outgoing | None:
        if kind == "duplicate":
            delay = int(self.rng.uniform(0, 60) * TICK_HZ)
            self.delayed.append(Outgoing(tick + delay, record.key, record.value, record.timestamp_ms))
            return record
        if kind in ("out_of_order", "late"):
            seconds = LATE_DELAY_S if kind == "late" else self.rng.uniform(0.2, 3.0)
            self.delayed.append(
                Outgoing(tick + int(seconds * TICK_HZ), record.key, record.value, record.timestamp_ms)
            )
            return None
        if kind == "truncated":
            record.value = record.value[: len(record.value) // 2]
        elif kind == "wrong_schema_id":
            record.value = frame(
                UNREGISTERED_SCHEMA_ID,
                unframe(record.value, not self.json_encoding)[1],
                protobuf=not self.json_encoding,
            )
        elif kind == "bad_json":
            record.value = record.value[: max(6, len(record.value) - 7)] + b',"oops":'
        else:
            record.value = self._message_fault(kind, block, i)
        return record

    def _message_fault(self, kind: str, block: EventBlock, i: int) -> bytes:
        one = EventBlock(
            block.event_type,
            block.session_id,
            block.car[i : i + 1],
            block.car_number[i : i + 1],
            block.sequence[i : i + 1],
            block.event_time_ns,
            block.event_ids[i : i + 1],
            {k: v[i : i + 1] for k, v in block.columns.items()},
            block.system[i : i + 1],
        )
        msg = messages(one)[0]
        if kind == "out_of_range":
            name, value = _OUT_OF_RANGE[block.event_type]
            setattr(getattr(msg, _PAYLOAD_FIELD[block.event_type]), name, value)
        elif kind == "missing_field":
            victim = ("event_id", "session_id", "payload")[int(self.rng.integers(3))]
            if victim == "payload":
                msg.ClearField(_PAYLOAD_FIELD[block.event_type])
            else:
                msg.ClearField(victim)
        elif kind == "clock_skew":
            hours = self.rng.uniform(1, 6) * (1 if self.rng.random() < 0.5 else -1)
            msg.event_time_unix_ns += int(hours * 3600e9)
        if self.json_encoding:
            data = message_to_json(msg)
            if kind == "missing_field":  # JSON has no defaults: the key itself is absent
                for key in ("event_id", "session_id"):
                    if not getattr(msg, key):
                        data.pop(key, None)
            return frame(self.schema_id, json.dumps(data, separators=(",", ":")).encode(), protobuf=False)
        return frame(self.schema_id, msg.SerializeToString())

    def due(self, tick: int | None = None) -> list[Outgoing]:
        """Delayed records due by `tick` (all of them when None), in due order."""
        if not self.delayed:
            return []
        ready = [o for o in self.delayed if tick is None or o.due_tick <= tick]
        if ready:
            self.delayed = [o for o in self.delayed if not (tick is None or o.due_tick <= tick)]
            ready.sort(key=lambda o: o.due_tick)
        return ready

    def summary(self) -> dict:
        return {"rates": asdict(self.rates), "counts": self.counts, "event_ids": self.event_ids}
