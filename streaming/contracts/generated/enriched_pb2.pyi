from streaming.contracts.generated import session_pb2 as _session_pb2
from streaming.contracts.generated import telemetry_pb2 as _telemetry_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrichedTelemetryEvent(_message.Message):
    __slots__ = ("event", "session", "validated_time_unix_ns")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    VALIDATED_TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    event: _telemetry_pb2.TelemetryEvent
    session: SessionContext
    validated_time_unix_ns: int
    def __init__(self, event: _Optional[_Union[_telemetry_pb2.TelemetryEvent, _Mapping]] = ..., session: _Optional[_Union[SessionContext, _Mapping]] = ..., validated_time_unix_ns: _Optional[int] = ...) -> None: ...

class SessionContext(_message.Message):
    __slots__ = ("circuit", "session_type", "session_date", "total_laps", "driver_code", "driver_name", "team")
    CIRCUIT_FIELD_NUMBER: _ClassVar[int]
    SESSION_TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_DATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LAPS_FIELD_NUMBER: _ClassVar[int]
    DRIVER_CODE_FIELD_NUMBER: _ClassVar[int]
    DRIVER_NAME_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    circuit: str
    session_type: _session_pb2.SessionType
    session_date: str
    total_laps: int
    driver_code: str
    driver_name: str
    team: str
    def __init__(self, circuit: _Optional[str] = ..., session_type: _Optional[_Union[_session_pb2.SessionType, str]] = ..., session_date: _Optional[str] = ..., total_laps: _Optional[int] = ..., driver_code: _Optional[str] = ..., driver_name: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...
