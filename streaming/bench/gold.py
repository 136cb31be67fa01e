"""`f1 bench gold`: build the gold layer (dbt) over a simulated race-hour of silver, and time it.

The silver table is filled straight from the simulator's event blocks: the rows silver would land for
a fault-free session (the views' columns, enum short names, session context), written as Parquet by
pyarrow and appended to `silver.telemetry_enriched` by Spark. Going through Kafka, bronze and silver
instead would take about 40 minutes for the ~20 M events of a 50-car race-hour (~8.5k events/s through
silver here, see `f1 bench pipeline`), and gold's figures would not change: gold reads only silver.

Silver first holds every minute but the last; `dbt build` runs in the same process and SparkSession (as
the tests and Dagster do) from empty gold tables: the timed full build. Then the last minute lands and
gold builds incrementally, as it would during a live race; then once more with nothing new. Printed: the
full build's time and silver events per second, each model's and the tests' time, the incremental builds'
times, and the largest difference between gold's lap and sector times and the simulator's ground truth.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import SILVER_TABLE, from_view_select, table_columns
from streaming.settings import Settings

NS_PER_S = 1_000_000_000
# Rows kept in memory per event type before they are written out as a Parquet row group.
FLUSH_ROWS = 1_000_000
# validated_at of the rows as if silver had landed them in micro-batches of this many seconds
SILVER_BATCH_S = 2
# Seconds of one car's events per silver file
FILE_SECONDS = 300


def _arrow_type(sql_type: str):
    import pyarrow as pa

    return {
        "STRING": pa.string(),
        "INT": pa.int32(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "DATE": pa.date32(),
    }[sql_type]


def _strings(values: list[str], indices: np.ndarray):
    """A dictionary-encoded string column: few distinct values, one small index per row."""
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(values))


def _fixed_width_strings(values: np.ndarray):
    """numpy bytes (S36 event ids) as an Arrow string column without a Python object per row."""
    import pyarrow as pa

    width, n = values.dtype.itemsize, len(values)
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(values.tobytes()))


class SilverParquet:
    """Event blocks of one session as silver rows, in one Parquet file per event type."""

    def __init__(self, folder: Path, race, info, landed_after_ns: int):
        from google.protobuf.descriptor import FieldDescriptor

        from streaming.contracts import telemetry_pb2 as pb
        from streaming.jobs.sessions import session_type_name

        self.folder = folder
        self.landed_after_ns = landed_after_ns  # event time + this = when the streams would have landed it
        self.race = race
        self.session_id = race.config.session_id
        self.session_date = dt.date.fromisoformat(race.config.session_date)
        self.context = {
            "circuit": [race.track.name],
            "session_type": [session_type_name(info)],
            "driver_code": [e.driver_code for e in race.entries],
            "driver_name": [e.driver_name for e in race.entries],
            "team": [e.team for e in race.entries],
        }
        self.pending: dict[str, list] = {t: [] for t in EVENT_TYPES}
        self.pending_rows = dict.fromkeys(EVENT_TYPES, 0)
        self.writers: dict = {}
        self.rows = dict.fromkeys(EVENT_TYPES, 0)
        # enum fields: number -> silver's short name
        self.enums: dict[str, dict[str, list[str]]] = {}
        for event_type in EVENT_TYPES:
            message = pb.TelemetryEvent.DESCRIPTOR.fields_by_name[event_type].message_type
            for field in message.fields:
                if field.type == FieldDescriptor.TYPE_ENUM:
                    prefix = field.enum_type.values[0].name.removesuffix("UNSPECIFIED")
                    top = max(v.number for v in field.enum_type.values)
                    names = [""] * (top + 1)
                    for v in field.enum_type.values:
                        names[v.number] = v.name.removeprefix(prefix)
                    self.enums.setdefault(event_type, {})[field.name] = names

    def add(self, block) -> None:
        from streaming.contracts.event_types import EVENT_TYPE_NAMES
        from streaming.simulator.encoding import messages
        from streaming.simulator.events import SYSTEM

        event_type = EVENT_TYPE_NAMES[block.event_type]
        columns = dict(block.columns)
        if block.event_type == SYSTEM:  # a handful per lap: the generic path
            columns = {}
            for message in messages(block):
                payload = message.system
                for field in payload.DESCRIPTOR.fields:
                    present = not field.has_presence or payload.HasField(field.name)
                    value = getattr(payload, field.name) if present else None
                    columns.setdefault(field.name, []).append(value)
        self.pending[event_type].append(
            (block.car, block.car_number, block.sequence, block.event_time_ns, block.event_ids, columns)
        )
        self.pending_rows[event_type] += len(block)
        if self.pending_rows[event_type] >= FLUSH_ROWS:
            self.flush(event_type)

    def flush(self, event_type: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        blocks, self.pending[event_type], self.pending_rows[event_type] = self.pending[event_type], [], 0
        if not blocks:
            return
        car = np.concatenate([b[0] for b in blocks])
        n = len(car)
        times = np.concatenate([np.full(len(b[0]), b[3], dtype=np.int64) for b in blocks])
        # as the streams would: silver micro-batches every 2 s stamp their rows a little after the events
        batch_us = SILVER_BATCH_S * 1_000_000
        validated = ((times + self.landed_after_ns) // 1000 // batch_us + 1) * batch_us
        computed = {
            "event_id": _fixed_width_strings(np.concatenate([b[4] for b in blocks])),
            "session_id": _strings([self.session_id], np.zeros(n)),
            "car_number": pa.array(np.concatenate([b[1] for b in blocks]).astype(np.int32)),
            "event_time": pa.array(times // 1000, pa.timestamp("us", tz="UTC")),
            "event_time_unix_ns": pa.array(times),
            "producer_time_unix_ns": pa.array(times + 3_000_000),
            "sequence": pa.array(np.concatenate([b[2] for b in blocks]).astype(np.int64)),
            "encoding": _strings(["protobuf"], np.zeros(n)),
            "kafka_topic": _strings(["f1.telemetry.raw"], np.zeros(n)),
            "kafka_partition": pa.array(np.zeros(n, dtype=np.int32)),
            "kafka_offset": pa.array(np.arange(self.rows[event_type], self.rows[event_type] + n)),
            "ingested_at": pa.array(validated, pa.timestamp("us", tz="UTC")),
            "validated_at": pa.array(validated, pa.timestamp("us", tz="UTC")),
            "session_date": pa.array(np.full(n, self.session_date), pa.date32()),
        }
        for name, values in self.context.items():
            computed[name] = _strings(values, car if len(values) > 1 else np.zeros(n))
        arrays, fields = [], []
        enums = self.enums.get(event_type, {})
        for name, sql_type, nullable, _ in table_columns(event_type):
            if name in computed:
                array = computed[name]
            else:
                raw = [b[5][name] for b in blocks]
                if event_type == "system":
                    flat = [v for part in raw for v in part]
                    if name in enums:
                        flat = [None if v is None else enums[name][v] for v in flat]
                    array = pa.array(flat, _arrow_type(sql_type))
                elif name in enums:
                    array = _strings(enums[name], np.concatenate(raw))
                else:
                    array = pa.array(np.concatenate(raw)).cast(_arrow_type(sql_type))
            arrays.append(array)
            fields.append(pa.field(name, array.type, nullable))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        if event_type not in self.writers:
            (self.folder / event_type).mkdir(parents=True, exist_ok=True)
            self.writers[event_type] = pq.ParquetWriter(
                self.folder / event_type / "part-0.parquet", table.schema
            )
        self.writers[event_type].write_table(table)
        self.rows[event_type] += n

    def close(self) -> dict[str, int]:
        for event_type in EVENT_TYPES:
            self.flush(event_type)
        for writer in self.writers.values():
            writer.close()
        return dict(self.rows)


def simulate_to_parquet(config, minutes: float, folder: Path):
    """Simulate `minutes` of a race into silver-shaped Parquet files; returns (rows per type, race, info)."""
    from streaming.simulator.events import run_race
    from streaming.simulator.race import Race
    from streaming.simulator.runner import session_info

    race = Race(config)
    info = session_info(config, race)
    end_ns = config.start_time_ns + int(minutes * 60 * NS_PER_S)
    # as if the streams had landed the session live, ending now
    out = SilverParquet(folder, race, info, landed_after_ns=time.time_ns() - end_ns)
    for _, time_ns, blocks in run_race(race):
        for block in blocks:
            out.add(block)
        if time_ns >= end_ns:
            break
    return out.close(), race, info


def append_to_silver(spark, folder: Path, where: str) -> int:
    """Append the Parquet rows matching `where` to the silver table; returns how many."""
    from streaming.contracts.event_types import EVENT_TYPE_NAMES
    from streaming.simulator.events import PER_SECOND_PER_CAR

    rates = {EVENT_TYPE_NAMES[k]: v for k, v in PER_SECOND_PER_CAR.items()}
    appended = 0
    for event_type in EVENT_TYPES:
        select = ", ".join(from_view_select(event_type))  # the view's columns -> the silver table's
        rows = spark.read.parquet((folder / event_type).as_posix()).where(where)
        rows.createOrReplaceTempView("bench_gold_rows")
        # Files of a few minutes of one car each, in time order, as the streams leave them (many small
        # files, compacted by `f1 maintain`): Delta's statistics then let incremental builds skip old files.
        per_file = max(1000, rates.get(event_type, 0) * FILE_SECONDS)
        spark.conf.set("spark.sql.files.maxRecordsPerFile", str(per_file))
        spark.sql(
            f"INSERT INTO {SILVER_TABLE} SELECT {select} FROM bench_gold_rows "
            "DISTRIBUTE BY car_number SORT BY session_date, car_number, event_time_unix_ns"
        )
        appended += rows.count()
    spark.conf.unset("spark.sql.files.maxRecordsPerFile")
    spark.catalog.dropTempView("bench_gold_rows")
    return appended


def lap_truth_deviation(spark, race) -> dict[str, float]:
    """Largest |gold - truth| of lap and sector times, ms, over the laps the simulator completed."""
    truth = {(lap["car_number"], lap["lap"]): lap for lap in race.truth.laps}
    rows = (
        spark.table("gold.lap_metrics")
        .where(f"session_id = '{race.config.session_id}'")
        .select("car_number", "lap_number", "lap_time_s", "sector_1_s", "sector_2_s", "sector_3_s")
        .collect()
    )
    lap_dev, sector_dev, matched = 0.0, 0.0, 0
    for row in rows:
        lap = truth.get((row.car_number, row.lap_number))
        if lap is None:
            continue
        matched += 1
        lap_dev = max(lap_dev, abs(row.lap_time_s * 1000 - lap["lap_time_ms"]))
        sectors = (row.sector_1_s, row.sector_2_s, row.sector_3_s)
        sector_dev = max(
            sector_dev, *(abs(g * 1000 - t) for g, t in zip(sectors, lap["sector_ms"], strict=True))
        )
    return {
        "gold laps": float(len(rows)),
        "simulated laps matched": float(matched),
        "max lap time deviation from truth": lap_dev,
        "max sector time deviation from truth": sector_dev,
    }


def run_gold_benchmark(s: Settings, cars: int, minutes: float) -> dict[str, float]:
    """Silver for `minutes` of racing but the last one, a full gold build; then the last minute, an
    incremental build; then one with nothing new. Figures as the module docstring says."""
    from streaming.clients.catalog import create_databases
    from streaming.clients.dbt import run_dbt, timings
    from streaming.clients.spark import get_spark
    from streaming.jobs.sessions import upsert_sessions
    from streaming.simulator.race import RaceConfig

    spark = get_spark(s, "f1-bench-gold")
    create_databases(s)
    # a race long enough for its pit stops to fall inside the simulated minutes
    laps = max(3, int(minutes * 60 / 80) + 3)
    config = RaceConfig(
        cars=cars, laps=min(laps, 120), seed=4242, start_time_ns=time.time_ns() - 24 * 3600 * NS_PER_S
    )
    last_minute_ns = config.start_time_ns + int((minutes - 1) * 60 * NS_PER_S)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="f1-bench-gold-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        rows, race, info = simulate_to_parquet(config, minutes, folder)
        upsert_sessions(spark, [info])
        events = append_to_silver(spark, folder, f"event_time_unix_ns < {last_minute_ns}")
        figures["silver events"] = float(events)
        figures["silver load (simulate and write; not part of gold)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        nodes = timings(run_dbt(s, ["build"]))
        figures["gold build"] = time.perf_counter() - t0
        figures["gold"] = events / figures["gold build"]
        for node in nodes:
            if node.resource_type == "model":
                figures[f"gold model {node.name}"] = node.seconds
        figures["gold tests (sum)"] = sum(n.seconds for n in nodes if n.resource_type == "test")
        figures["gold tests run"] = float(sum(1 for n in nodes if n.resource_type == "test"))

        figures["silver events, last minute"] = float(
            append_to_silver(spark, folder, f"event_time_unix_ns >= {last_minute_ns}")
        )
    t0 = time.perf_counter()
    nodes = timings(run_dbt(s, ["build"]))
    figures["gold incremental build, last minute"] = time.perf_counter() - t0
    lap_model = [n for n in nodes if n.name == "lap_metrics"]
    figures["gold incremental lap_metrics, last minute"] = lap_model[0].seconds if lap_model else 0.0
    t0 = time.perf_counter()
    run_dbt(s, ["build"])
    figures["gold incremental build, nothing new"] = time.perf_counter() - t0
    figures.update(lap_truth_deviation(spark, race))
    return figures


UNITS = {
    "silver events": "events",
    "silver events, last minute": "events",
    "gold laps": "laps",
    "simulated laps matched": "laps",
    "gold tests run": "tests",
    "max lap time deviation from truth": "ms",
    "max sector time deviation from truth": "ms",
}


def print_figures(figures: dict[str, float]) -> None:
    """Each figure on its own line with its unit: seconds unless listed, events/s for the rate."""
    for name, value in figures.items():
        if name == "gold":
            print(f"gold: {value:,.0f} events/s")
        elif UNITS.get(name, "s") == "s":
            print(f"{name}: {value:.1f} s")
        elif UNITS[name] == "ms":
            print(f"{name}: {value:.2f} ms")
        else:
            print(f"{name}: {value:,.0f} {UNITS[name]}")
