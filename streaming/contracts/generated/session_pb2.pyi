from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_TYPE_UNSPECIFIED: _ClassVar[SessionType]
    SESSION_TYPE_PRACTICE: _ClassVar[SessionType]
    SESSION_TYPE_QUALIFYING: _ClassVar[SessionType]
    SESSION_TYPE_SPRINT: _ClassVar[SessionType]
    SESSION_TYPE_RACE: _ClassVar[SessionType]
SESSION_TYPE_UNSPECIFIED: SessionType
SESSION_TYPE_PRACTICE: SessionType
SESSION_TYPE_QUALIFYING: SessionType
SESSION_TYPE_SPRINT: SessionType
SESSION_TYPE_RACE: SessionType

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "circuit", "circuit_length_m", "session_type", "session_date", "start_time_unix_ns", "total_laps", "entries", "sector_end_m", "seed")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_LENGTH_M_FIELD_NUMBER: _ClassVar[int]
    SESSION_TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_DATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LAPS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SECTOR_END_M_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    circuit: str
    circuit_length_m: float
    session_type: SessionType
    session_date: str
    start_time_unix_ns: int
    total_laps: int
    entries: _containers.RepeatedCompositeFieldContainer[Entry]
    sector_end_m: _containers.RepeatedScalarFieldContainer[float]
    seed: int
    def __init__(self, session_id: _Optional[str] = ..., circuit: _Optional[str] = ..., circuit_length_m: _Optional[float] = ..., session_type: _Optional[_Union[SessionType, str]] = ..., session_date: _Optional[str] = ..., start_time_unix_ns: _Optional[int] = ..., total_laps: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[Entry, _Mapping]]] = ..., sector_end_m: _Optional[_Iterable[float]] = ..., seed: _Optional[int] = ...) -> None: ...

class Entry(_message.Message):
    __slots__ = ("car_number", "driver_code", "driver_name", "team")
    CAR_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DRIVER_CODE_FIELD_NUMBER: _ClassVar[int]
    DRIVER_NAME_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    car_number: int
    driver_code: str
    driver_name: str
    team: str
    def __init__(self, car_number: _Optional[int] = ..., driver_code: _Optional[str] = ..., driver_name: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...
