"""The lake query's memory of recently landed event ids (streaming.jobs.recent_ids).

Pure tests of where each second of event time is looked up and which frames are kept, and one on real
Spark: what a batch remembers is found by the next one, a session's recent ids are read from the tables
once, and a failed try forgets everything.
"""

from __future__ import annotations

from streaming.jobs import recent_ids
from streaming.jobs.recent_ids import Frame, RecentIds, frames_to_keep, split, to_admit

NOW = 1_800_000_000


def test_seconds_within_the_window_of_known_sessions_go_to_memory():
    buckets = {"a": [NOW - 500, NOW - 10, NOW], "b": [NOW - 5], "c": [NOW + 10**6]}
    memory, tables = split(buckets, known={"a", "b", "c"}, floor=NOW - 120, ceiling=NOW + 86_400)
    assert memory == {"a": [NOW - 10, NOW], "b": [NOW - 5]}
    # older than the window, or beyond the ceiling: the tables
    assert tables == {"a": [NOW - 500], "c": [NOW + 10**6]}
    # a session not read yet: the tables answer for all its seconds
    memory, tables = split({"d": [NOW]}, known=set(), floor=NOW - 120, ceiling=NOW + 86_400)
    assert memory == {} and tables == {"d": [NOW]}


def test_only_sessions_with_a_second_in_the_window_are_read_from_the_tables():
    buckets = {"live": [NOW - 1], "replay": [NOW - 10_000], "known": [NOW]}
    assert to_admit(buckets, known={"known"}, floor=NOW - 120, ceiling=NOW + 60) == ["live"]


def test_frames_wholly_below_the_floor_are_dropped():
    spans = [{"a": (NOW - 300, NOW - 200)}, {"a": (NOW - 130, NOW - 100)}, {"a": (1, 2), "b": (NOW, NOW)}]
    assert frames_to_keep(spans, floor=NOW - 120) == [1, 2]


def test_a_frame_overlaps_only_the_seconds_it_spans():
    frame = Frame(ids=None, spans={"a": (10, 20)})
    assert frame.overlaps({"a": [5, 15]})
    assert not frame.overlaps({"a": [21, 30], "b": [15]})


def test_what_a_batch_remembers_the_next_finds_and_a_failed_try_forgets(spark):
    rows = [("s1", NOW - 5, "old-1"), ("s1", NOW - 500, "too-old")]
    reads = []

    def read_tables(where):
        reads.append(where)
        frame = spark.createDataFrame(rows, "session_id string, t long, event_id string")
        return frame.selectExpr("session_id", "timestamp_seconds(t) AS event_time", "event_id").where(where)

    memory = RecentIds(read_tables, window_s=120, clock=lambda: NOW)
    in_memory, in_tables = memory.split({"s1": [NOW - 5, NOW], "s2": [NOW - 1]})
    assert len(reads) == 1  # both sessions read at once, once
    assert in_memory == {"s1": [NOW - 5, NOW], "s2": [NOW - 1]} and in_tables == {}
    # the tables' ids within the window are remembered; one older than the window is not
    assert sorted(r.event_id for r in memory.lookup(in_memory).collect()) == ["old-1"]

    landed = spark.createDataFrame(
        [("s2", NOW - 1, "new-1"), ("s2", None, "no-second"), ("s1", NOW, "new-2")],
        "session_id string, bucket long, event_id string",
    )
    memory.remember(landed, {"s1": [NOW], "s2": [NOW - 1]})
    in_memory, _ = memory.split({"s1": [NOW], "s2": [NOW - 1]})
    assert len(reads) == 1  # known sessions are not read again
    assert sorted(r.event_id for r in memory.lookup(in_memory).collect()) == ["new-1", "new-2"]
    # a second no frame spans: nothing to look up at all
    assert memory.lookup({"s2": [NOW - 100]}) is None

    memory.forget()
    assert memory.frames == [] and memory.known == set()
    memory.split({"s1": [NOW]})
    assert len(reads) == 2  # read from the tables again


def test_frames_are_merged_when_there_are_too_many(spark, monkeypatch):
    monkeypatch.setattr(recent_ids, "MOST_FRAMES", 3)
    memory = RecentIds(lambda where: None, window_s=120, clock=lambda: NOW)
    memory.ceiling, memory.known = NOW + 86_400, {"s"}
    for i in range(4):
        landed = spark.createDataFrame(
            [("s", NOW - i, f"id-{i}")], "session_id string, bucket long, event_id string"
        )
        memory.remember(landed, {"s": [NOW - i]})
    assert len(memory.frames) == 1 and memory.frames[0].spans == {"s": (NOW - 3, NOW)}
    found = memory.lookup({"s": [NOW - 3, NOW - 2, NOW - 1, NOW]}).collect()
    assert sorted(r.event_id for r in found) == ["id-0", "id-1", "id-2", "id-3"]
