"""The event ids the lake query landed recently, kept in Spark's memory: a live batch's dedup reads no table.

Silver finds a repeat by looking each row's event id up among the ids silver and the quarantine hold in the
row's session and second of event time (`streaming.jobs.silver`). Read from the tables, that lookup costs a
fresh Delta snapshot of each (they changed with the last batch) and a scan: half of a live batch's time
(`f1 bench pipeline`, 50 cars: 3.6 s of a 7.3 s batch). But the lake query is the only writer of those
tables, so it can remember what it wrote:

- a session's ids from the window's floor on are read from the tables once per run, when the session first
  has a row in the window (a new session reads nothing; a restart mid-race reads the last WINDOW_S);
- each batch adds the ids it landed (silver's and the quarantine's), after its commits;
- so for a second of event time in [floor, ceiling] the memory holds every id the tables hold: it is
  looked up there. Any other second (a replay of an old session, a straggler older than the window, a
  clock far ahead) is looked up in the tables, as before. The answer is the same either way.
- a try that fails forgets everything (its appends may have reached some tables and not the memory), and
  so does a run whose clock passes the ceiling.

The floor follows the clock (now - WINDOW_S), and ids below it are dropped with the frames that hold them.
The decisions (which second goes where, which frames to read or drop) are pure functions, tested alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.jobs import release

# Seconds of event time before now that the memory covers: stragglers and repeats within it cost no table
# read. ~5,500 ids/s at the nominal rate: 0.7 M ids (about 60 MB of cached blocks) for 120 s.
WINDOW_S = 120
# How far past the run's start (or last reset) the memory covers: a clock running ahead, or a hostile
# event time within a day, is remembered; beyond, looked up in the tables. A run resets when it gets close.
HORIZON_S = 86_400
# Frames (one per batch) are merged into one once there are this many: fewer scans per lookup.
MOST_FRAMES = 64

Buckets = dict[str, list[int]]  # session id -> seconds of event time (Unix s)


@dataclass
class Frame:
    """Ids landed by one batch, or read at a session's start: session_id, bucket, event_id, checkpointed."""

    ids: DataFrame
    spans: dict[str, tuple[int, int]]  # session id -> (first, last) bucket it holds

    def overlaps(self, wanted: Buckets) -> bool:
        return any(
            session in self.spans
            and any(self.spans[session][0] <= b <= self.spans[session][1] for b in found)
            for session, found in wanted.items()
        )


def split(buckets: Buckets, known: Iterable[str], floor: int, ceiling: int) -> tuple[Buckets, Buckets]:
    """(looked up in memory, looked up in the tables): each session's seconds within [floor, ceiling] go to
    memory if the session is known (its ids were read, or it is new), the rest to the tables."""
    known = set(known)
    memory: Buckets = {}
    tables: Buckets = {}
    for session, found in buckets.items():
        for bucket in found:
            inside = session in known and floor <= bucket <= ceiling
            (memory if inside else tables).setdefault(session, []).append(bucket)
    return memory, tables


def to_admit(buckets: Buckets, known: Iterable[str], floor: int, ceiling: int) -> list[str]:
    """Sessions to read from the tables first: not known yet, with a second within the window."""
    known = set(known)
    return sorted(
        session
        for session, found in buckets.items()
        if session not in known and any(floor <= b <= ceiling for b in found)
    )


def frames_to_keep(spans: list[dict[str, tuple[int, int]]], floor: int) -> list[int]:
    """Indexes of the frames that still hold a second at or above the floor."""
    return [i for i, s in enumerate(spans) if any(last >= floor for _, last in s.values())]


def bucket_filter(wanted: Buckets, column: str = "bucket") -> Column:
    """Rows of these sessions and seconds (`column`: the rows' second of event time)."""
    condition = None
    for session, found in sorted(wanted.items()):
        this = (F.col("session_id") == F.lit(session)) & F.col(column).isin(sorted(set(found)))
        condition = this if condition is None else condition | this
    return condition if condition is not None else F.lit(False)


@dataclass
class RecentIds:
    """The memory of one run of the lake query. `read_tables(where)`: the ids the tables hold for a
    condition on (session_id, event_time), as (session_id, event_time, event_id) rows."""

    read_tables: Callable[[Column], DataFrame]
    window_s: int = WINDOW_S
    horizon_s: int = HORIZON_S
    clock: Callable[[], float] = time.time
    frames: list[Frame] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    ceiling: int = 0

    @property
    def floor(self) -> int:
        return int(self.clock()) - self.window_s

    def forget(self) -> None:
        """Drop everything: the next batch reads its sessions from the tables again."""
        for frame in self.frames:
            release(frame.ids)
        self.frames, self.known, self.ceiling = [], set(), 0

    def split(self, buckets: Buckets) -> tuple[Buckets, Buckets]:
        """Admit the batch's sessions (their recent ids read from the tables, once), then (memory, tables)."""
        now = int(self.clock())
        if now + self.window_s > self.ceiling:  # the first batch of a run, or a day on: start over
            self.forget()
            self.ceiling = now + self.horizon_s
        floor = self.floor
        admit = to_admit(buckets, self.known, floor, self.ceiling)
        if admit:
            low = F.timestamp_seconds(F.lit(floor))
            high = F.timestamp_seconds(F.lit(self.ceiling + 1))
            event_time = F.col("event_time")
            where = F.col("session_id").isin(admit) & (event_time >= low) & (event_time < high)
            rows = self.read_tables(where).withColumn("bucket", F.expr("unix_micros(event_time) div 1000000"))
            ids = checkpoint(rows.select("session_id", "bucket", "event_id"))
            spans = {
                r.session_id: (r.first, r.last)
                for r in ids.groupBy("session_id")
                .agg(F.min("bucket").alias("first"), F.max("bucket").alias("last"))
                .collect()
            }
            if spans:
                self.frames.append(Frame(ids, spans))
            else:
                release(ids)
            self.known.update(admit)
        return split(buckets, self.known, floor, self.ceiling)

    def lookup(self, wanted: Buckets) -> DataFrame | None:
        """The remembered ids (event_id column) in these sessions and seconds; None when no frame has any."""
        frames = [f.ids for f in self.frames if f.overlaps(wanted)]
        if not frames:
            return None
        union = frames[0]
        for frame in frames[1:]:
            union = union.unionByName(frame)
        return union.where(bucket_filter(wanted)).select("event_id")

    def remember(self, landed: DataFrame, buckets: Buckets) -> None:
        """Add a batch's landed rows (session_id, bucket, event_id) of the seconds `buckets` (the batch's, a
        frame's span may be wider than its rows), then drop the frames wholly below the floor and merge
        the rest when there are too many."""
        floor, ceiling = self.floor, self.ceiling
        spans = {
            session: (min(inside), max(inside))
            for session, found in buckets.items()
            if (inside := [b for b in found if floor <= b <= ceiling])
        }
        if spans:
            window = F.col("bucket").between(floor, ceiling) & F.col("event_id").isNotNull()
            self.frames.append(Frame(checkpoint(landed.where(window)), spans))
        keep = frames_to_keep([f.spans for f in self.frames], floor)
        for i, frame in enumerate(self.frames):
            if i not in keep:
                release(frame.ids)
        self.frames = [self.frames[i] for i in keep]
        if len(self.frames) > MOST_FRAMES:
            merged = self.frames[0].ids
            for frame in self.frames[1:]:
                merged = merged.unionByName(frame.ids)
            spans = {}
            for frame in self.frames:
                for session, (first, last) in frame.spans.items():
                    was = spans.get(session, (first, last))
                    spans[session] = (min(was[0], first), max(was[1], last))
            old, self.frames = self.frames, [Frame(checkpoint(merged.where(F.col("bucket") >= floor)), spans)]
            for frame in old:
                release(frame.ids)


def checkpoint(ids: DataFrame) -> DataFrame:
    """`ids` (session_id, bucket, event_id) computed now and kept in the block manager, its plan cut: a
    cached frame whose plan read `validated` would be recomputed once the batch releases it."""
    return ids.select("session_id", "bucket", "event_id").coalesce(1).localCheckpoint(eager=True)
