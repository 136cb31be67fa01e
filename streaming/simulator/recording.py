"""Session recordings: every record a run sent, byte for byte, to replay into Kafka at any speed.

File format (gzip-compressed): the line `F1REC 1`, one JSON header line (session, encoding, the schema ids
the values reference), then per record a fixed header `>qqBHI` (send offset ns from the first record,
Kafka timestamp ms, topic code, key length, value length) followed by the key and value bytes.
"""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from streaming.contracts import topics

MAGIC = b"F1REC 1\n"
_RECORD = struct.Struct(">qqBHI")
TOPIC_CODES = {topics.RAW_PROTOBUF: 0, topics.RAW_JSON: 1, topics.SESSIONS: 2}
TOPIC_NAMES = {code: name for name, code in TOPIC_CODES.items()}


@dataclass(frozen=True)
class Record:
    offset_ns: int
    timestamp_ms: int
    topic: str
    key: bytes
    value: bytes


class RecordingWriter:
    def __init__(self, path: Path, header: dict):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = gzip.open(path, "wb", compresslevel=3)  # noqa: SIM115 - closed by close()
        self._file.write(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n")
        self.records = 0

    def write(self, record: Record) -> None:
        self._file.write(
            _RECORD.pack(
                record.offset_ns,
                record.timestamp_ms,
                TOPIC_CODES[record.topic],
                len(record.key),
                len(record.value),
            )
        )
        self._file.write(record.key)
        self._file.write(record.value)
        self.records += 1

    def close(self) -> None:
        self._file.close()


def read_recording(path: Path) -> tuple[dict, Iterator[Record]]:
    """(header, records) of a recording; ValueError if the file is not one."""
    file = gzip.open(path, "rb")  # noqa: SIM115 - closed by the records() generator
    try:
        if file.readline() != MAGIC:
            raise ValueError(f"{path} is not an f1-telemetry recording (no '{MAGIC.decode().strip()}' line)")
        header = json.loads(file.readline())
    except (OSError, EOFError, json.JSONDecodeError) as error:
        file.close()
        raise ValueError(f"{path} is not a readable recording: {error}") from None

    def records() -> Iterator[Record]:
        with file:
            while chunk := file.read(_RECORD.size):
                if len(chunk) < _RECORD.size:
                    raise ValueError(f"{path} ends inside a record: the recording is truncated")
                offset, ts, code, key_len, value_len = _RECORD.unpack(chunk)
                key, value = file.read(key_len), file.read(value_len)
                if len(value) < value_len:
                    raise ValueError(f"{path} ends inside a record: the recording is truncated")
                yield Record(offset, ts, TOPIC_NAMES[code], key, value)

    return header, records()
