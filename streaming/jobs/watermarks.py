"""Silver's lateness watermarks, one per event stream, stored beside the query's checkpoint per batch.

An event stream is one car's events of one type in one session: those arrive in order (a car's events
share a Kafka partition), so the newest accepted event time of the stream is a sound reference even when
partitions, or the files of one bronze commit, reach silver in different micro-batches. Silver
quarantines an event as `late` when it is older than its stream's newest accepted event time minus the
allowed lateness. The watermark a batch
uses must not depend on whether that batch ran before (a batch replayed after a crash must split its rows
exactly as the first attempt did), so batch N reads the state written by the newest batch before N, and
writes its own state only after all its tables are committed. Files go through Hadoop's FileSystem, so a
checkpoint on s3a:// works as well as a local one.
"""

from __future__ import annotations

import json

from pyspark.sql import SparkSession

_KEEP = 20  # state files kept: enough to replay any batch the checkpoint can still replay


class WatermarkStore:
    def __init__(self, spark: SparkSession, folder: str):
        jvm = spark._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self.folder = self._path(folder)
        self.fs = self.folder.getFileSystem(spark._jsc.hadoopConfiguration())
        self.fs.mkdirs(self.folder)

    def _batch_ids(self) -> list[int]:
        ids = []
        for status in self.fs.listStatus(self.folder):
            name = status.getPath().getName()
            if name.endswith(".json") and name[:-5].isdigit():
                ids.append(int(name[:-5]))
        return sorted(ids)

    def before(self, batch_id: int) -> dict[str, int]:
        """{stream key: newest accepted event time, ns} as of the newest batch before `batch_id`."""
        earlier = [i for i in self._batch_ids() if i < batch_id]
        if not earlier:
            return {}
        stream = self.fs.open(self._path(self.folder, f"{earlier[-1]}.json"))
        try:
            data = bytes(stream.readAllBytes())  # Java 9+ InputStream API
        finally:
            stream.close()
        return {k: int(v) for k, v in json.loads(data).items()}

    def save(self, batch_id: int, newest: dict[str, int]) -> None:
        target = self._path(self.folder, f"{batch_id}.json")
        stream = self.fs.create(target, True)
        try:
            stream.write(bytearray(json.dumps(newest, sort_keys=True).encode()))
        finally:
            stream.close()
        for old in self._batch_ids()[:-_KEEP]:
            self.fs.delete(self._path(self.folder, f"{old}.json"), False)


def stream_key(session_id: str, car_number: int, event_type: str) -> str:
    return f"{session_id}|{car_number}|{event_type}"


def car_stream(car_number: int, event_type: str) -> str:
    """The key of a stream within its session (what the context frame's map is keyed by)."""
    return f"{car_number}|{event_type}"


def merge_newest(previous: dict[str, int], batch_newest: dict[str, int]) -> dict[str, int]:
    """The newest accepted event time per stream after a batch."""
    merged = dict(previous)
    for key, newest in batch_newest.items():
        merged[key] = max(newest, merged.get(key, newest))
    return merged


def session_watermarks(newest: dict[str, int], allowed_lateness_ns: int) -> dict[str, dict[str, int]]:
    """{session_id: {"car|event_type": watermark ns}}: an event of that stream older than this is late."""
    result: dict[str, dict[str, int]] = {}
    for key, t in newest.items():
        parts = key.rsplit("|", 2)
        if len(parts) != 3:  # not a stream key (a state file of an older layout): no watermark
            continue
        session_id, car, event_type = parts
        result.setdefault(session_id, {})[car_stream(int(car), event_type)] = t - allowed_lateness_ns
    return result
