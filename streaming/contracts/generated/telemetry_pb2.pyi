from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_POSITION: _ClassVar[EventType]
    EVENT_TYPE_DYNAMICS: _ClassVar[EventType]
    EVENT_TYPE_POWER_UNIT: _ClassVar[EventType]
    EVENT_TYPE_TIRE: _ClassVar[EventType]
    EVENT_TYPE_AERODYNAMICS: _ClassVar[EventType]
    EVENT_TYPE_SYSTEM: _ClassVar[EventType]

class TrackStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRACK_STATUS_UNSPECIFIED: _ClassVar[TrackStatus]
    TRACK_STATUS_GREEN: _ClassVar[TrackStatus]
    TRACK_STATUS_YELLOW: _ClassVar[TrackStatus]
    TRACK_STATUS_SAFETY_CAR: _ClassVar[TrackStatus]
    TRACK_STATUS_VIRTUAL_SAFETY_CAR: _ClassVar[TrackStatus]
    TRACK_STATUS_RED: _ClassVar[TrackStatus]

class ErsDeployMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERS_DEPLOY_MODE_UNSPECIFIED: _ClassVar[ErsDeployMode]
    ERS_DEPLOY_MODE_NONE: _ClassVar[ErsDeployMode]
    ERS_DEPLOY_MODE_BALANCED: _ClassVar[ErsDeployMode]
    ERS_DEPLOY_MODE_HOTLAP: _ClassVar[ErsDeployMode]
    ERS_DEPLOY_MODE_OVERTAKE: _ClassVar[ErsDeployMode]
    ERS_DEPLOY_MODE_HARVEST: _ClassVar[ErsDeployMode]

class TireCorner(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIRE_CORNER_UNSPECIFIED: _ClassVar[TireCorner]
    TIRE_CORNER_FRONT_LEFT: _ClassVar[TireCorner]
    TIRE_CORNER_FRONT_RIGHT: _ClassVar[TireCorner]
    TIRE_CORNER_REAR_LEFT: _ClassVar[TireCorner]
    TIRE_CORNER_REAR_RIGHT: _ClassVar[TireCorner]

class TireCompound(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIRE_COMPOUND_UNSPECIFIED: _ClassVar[TireCompound]
    TIRE_COMPOUND_SOFT: _ClassVar[TireCompound]
    TIRE_COMPOUND_MEDIUM: _ClassVar[TireCompound]
    TIRE_COMPOUND_HARD: _ClassVar[TireCompound]
    TIRE_COMPOUND_INTERMEDIATE: _ClassVar[TireCompound]
    TIRE_COMPOUND_WET: _ClassVar[TireCompound]

class DrsState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DRS_STATE_UNSPECIFIED: _ClassVar[DrsState]
    DRS_STATE_UNAVAILABLE: _ClassVar[DrsState]
    DRS_STATE_AVAILABLE: _ClassVar[DrsState]
    DRS_STATE_OPEN: _ClassVar[DrsState]

class SystemEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYSTEM_EVENT_KIND_UNSPECIFIED: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_PIT_LANE_ENTRY: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_PIT_LANE_EXIT: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_PIT_STOP: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_DRS_AVAILABLE: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_DRS_UNAVAILABLE: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_FLAG: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_FAULT: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_ENGINE_MODE: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_SESSION_START: _ClassVar[SystemEventKind]
    SYSTEM_EVENT_KIND_SESSION_END: _ClassVar[SystemEventKind]

class Flag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLAG_UNSPECIFIED: _ClassVar[Flag]
    FLAG_GREEN: _ClassVar[Flag]
    FLAG_YELLOW: _ClassVar[Flag]
    FLAG_DOUBLE_YELLOW: _ClassVar[Flag]
    FLAG_RED: _ClassVar[Flag]
    FLAG_BLUE: _ClassVar[Flag]
    FLAG_CHEQUERED: _ClassVar[Flag]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_POSITION: EventType
EVENT_TYPE_DYNAMICS: EventType
EVENT_TYPE_POWER_UNIT: EventType
EVENT_TYPE_TIRE: EventType
EVENT_TYPE_AERODYNAMICS: EventType
EVENT_TYPE_SYSTEM: EventType
TRACK_STATUS_UNSPECIFIED: TrackStatus
TRACK_STATUS_GREEN: TrackStatus
TRACK_STATUS_YELLOW: TrackStatus
TRACK_STATUS_SAFETY_CAR: TrackStatus
TRACK_STATUS_VIRTUAL_SAFETY_CAR: TrackStatus
TRACK_STATUS_RED: TrackStatus
ERS_DEPLOY_MODE_UNSPECIFIED: ErsDeployMode
ERS_DEPLOY_MODE_NONE: ErsDeployMode
ERS_DEPLOY_MODE_BALANCED: ErsDeployMode
ERS_DEPLOY_MODE_HOTLAP: ErsDeployMode
ERS_DEPLOY_MODE_OVERTAKE: ErsDeployMode
ERS_DEPLOY_MODE_HARVEST: ErsDeployMode
TIRE_CORNER_UNSPECIFIED: TireCorner
TIRE_CORNER_FRONT_LEFT: TireCorner
TIRE_CORNER_FRONT_RIGHT: TireCorner
TIRE_CORNER_REAR_LEFT: TireCorner
TIRE_CORNER_REAR_RIGHT: TireCorner
TIRE_COMPOUND_UNSPECIFIED: TireCompound
TIRE_COMPOUND_SOFT: TireCompound
TIRE_COMPOUND_MEDIUM: TireCompound
TIRE_COMPOUND_HARD: TireCompound
TIRE_COMPOUND_INTERMEDIATE: TireCompound
TIRE_COMPOUND_WET: TireCompound
DRS_STATE_UNSPECIFIED: DrsState
DRS_STATE_UNAVAILABLE: DrsState
DRS_STATE_AVAILABLE: DrsState
DRS_STATE_OPEN: DrsState
SYSTEM_EVENT_KIND_UNSPECIFIED: SystemEventKind
SYSTEM_EVENT_KIND_PIT_LANE_ENTRY: SystemEventKind
SYSTEM_EVENT_KIND_PIT_LANE_EXIT: SystemEventKind
SYSTEM_EVENT_KIND_PIT_STOP: SystemEventKind
SYSTEM_EVENT_KIND_DRS_AVAILABLE: SystemEventKind
SYSTEM_EVENT_KIND_DRS_UNAVAILABLE: SystemEventKind
SYSTEM_EVENT_KIND_FLAG: SystemEventKind
SYSTEM_EVENT_KIND_FAULT: SystemEventKind
SYSTEM_EVENT_KIND_ENGINE_MODE: SystemEventKind
SYSTEM_EVENT_KIND_SESSION_START: SystemEventKind
SYSTEM_EVENT_KIND_SESSION_END: SystemEventKind
FLAG_UNSPECIFIED: Flag
FLAG_GREEN: Flag
FLAG_YELLOW: Flag
FLAG_DOUBLE_YELLOW: Flag
FLAG_RED: Flag
FLAG_BLUE: Flag
FLAG_CHEQUERED: Flag

class TelemetryEvent(_message.Message):
    __slots__ = ("event_id", "session_id", "car_number", "event_type", "event_time_unix_ns", "producer_time_unix_ns", "sequence", "position", "dynamics", "power_unit", "tire", "aerodynamics", "system")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CAR_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    DYNAMICS_FIELD_NUMBER: _ClassVar[int]
    POWER_UNIT_FIELD_NUMBER: _ClassVar[int]
    TIRE_FIELD_NUMBER: _ClassVar[int]
    AERODYNAMICS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    session_id: str
    car_number: int
    event_type: EventType
    event_time_unix_ns: int
    producer_time_unix_ns: int
    sequence: int
    position: Position
    dynamics: Dynamics
    power_unit: PowerUnit
    tire: Tire
    aerodynamics: Aerodynamics
    system: SystemEvent
    def __init__(self, event_id: _Optional[str] = ..., session_id: _Optional[str] = ..., car_number: _Optional[int] = ..., event_type: _Optional[_Union[EventType, str]] = ..., event_time_unix_ns: _Optional[int] = ..., producer_time_unix_ns: _Optional[int] = ..., sequence: _Optional[int] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., dynamics: _Optional[_Union[Dynamics, _Mapping]] = ..., power_unit: _Optional[_Union[PowerUnit, _Mapping]] = ..., tire: _Optional[_Union[Tire, _Mapping]] = ..., aerodynamics: _Optional[_Union[Aerodynamics, _Mapping]] = ..., system: _Optional[_Union[SystemEvent, _Mapping]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("x_m", "y_m", "z_m", "lap_number", "lap_distance_m", "track_status", "race_position", "in_pit_lane")
    X_M_FIELD_NUMBER: _ClassVar[int]
    Y_M_FIELD_NUMBER: _ClassVar[int]
    Z_M_FIELD_NUMBER: _ClassVar[int]
    LAP_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LAP_DISTANCE_M_FIELD_NUMBER: _ClassVar[int]
    TRACK_STATUS_FIELD_NUMBER: _ClassVar[int]
    RACE_POSITION_FIELD_NUMBER: _ClassVar[int]
    IN_PIT_LANE_FIELD_NUMBER: _ClassVar[int]
    x_m: float
    y_m: float
    z_m: float
    lap_number: int
    lap_distance_m: float
    track_status: TrackStatus
    race_position: int
    in_pit_lane: bool
    def __init__(self, x_m: _Optional[float] = ..., y_m: _Optional[float] = ..., z_m: _Optional[float] = ..., lap_number: _Optional[int] = ..., lap_distance_m: _Optional[float] = ..., track_status: _Optional[_Union[TrackStatus, str]] = ..., race_position: _Optional[int] = ..., in_pit_lane: _Optional[bool] = ...) -> None: ...

class Dynamics(_message.Message):
    __slots__ = ("speed_kmh", "throttle_pct", "brake_pct", "gear", "engine_rpm", "steering_angle_deg", "lateral_g", "longitudinal_g")
    SPEED_KMH_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_PCT_FIELD_NUMBER: _ClassVar[int]
    BRAKE_PCT_FIELD_NUMBER: _ClassVar[int]
    GEAR_FIELD_NUMBER: _ClassVar[int]
    ENGINE_RPM_FIELD_NUMBER: _ClassVar[int]
    STEERING_ANGLE_DEG_FIELD_NUMBER: _ClassVar[int]
    LATERAL_G_FIELD_NUMBER: _ClassVar[int]
    LONGITUDINAL_G_FIELD_NUMBER: _ClassVar[int]
    speed_kmh: float
    throttle_pct: float
    brake_pct: float
    gear: int
    engine_rpm: float
    steering_angle_deg: float
    lateral_g: float
    longitudinal_g: float
    def __init__(self, speed_kmh: _Optional[float] = ..., throttle_pct: _Optional[float] = ..., brake_pct: _Optional[float] = ..., gear: _Optional[int] = ..., engine_rpm: _Optional[float] = ..., steering_angle_deg: _Optional[float] = ..., lateral_g: _Optional[float] = ..., longitudinal_g: _Optional[float] = ...) -> None: ...

class PowerUnit(_message.Message):
    __slots__ = ("ice_rpm", "mgu_k_power_kw", "mgu_h_power_kw", "ers_store_energy_kj", "ers_deploy_mode", "fuel_remaining_kg", "oil_temp_c", "water_temp_c")
    ICE_RPM_FIELD_NUMBER: _ClassVar[int]
    MGU_K_POWER_KW_FIELD_NUMBER: _ClassVar[int]
    MGU_H_POWER_KW_FIELD_NUMBER: _ClassVar[int]
    ERS_STORE_ENERGY_KJ_FIELD_NUMBER: _ClassVar[int]
    ERS_DEPLOY_MODE_FIELD_NUMBER: _ClassVar[int]
    FUEL_REMAINING_KG_FIELD_NUMBER: _ClassVar[int]
    OIL_TEMP_C_FIELD_NUMBER: _ClassVar[int]
    WATER_TEMP_C_FIELD_NUMBER: _ClassVar[int]
    ice_rpm: float
    mgu_k_power_kw: float
    mgu_h_power_kw: float
    ers_store_energy_kj: float
    ers_deploy_mode: ErsDeployMode
    fuel_remaining_kg: float
    oil_temp_c: float
    water_temp_c: float
    def __init__(self, ice_rpm: _Optional[float] = ..., mgu_k_power_kw: _Optional[float] = ..., mgu_h_power_kw: _Optional[float] = ..., ers_store_energy_kj: _Optional[float] = ..., ers_deploy_mode: _Optional[_Union[ErsDeployMode, str]] = ..., fuel_remaining_kg: _Optional[float] = ..., oil_temp_c: _Optional[float] = ..., water_temp_c: _Optional[float] = ...) -> None: ...

class Tire(_message.Message):
    __slots__ = ("corner", "compound", "surface_temp_c", "inner_temp_c", "pressure_kpa", "wear_pct", "age_laps")
    CORNER_FIELD_NUMBER: _ClassVar[int]
    COMPOUND_FIELD_NUMBER: _ClassVar[int]
    SURFACE_TEMP_C_FIELD_NUMBER: _ClassVar[int]
    INNER_TEMP_C_FIELD_NUMBER: _ClassVar[int]
    PRESSURE_KPA_FIELD_NUMBER: _ClassVar[int]
    WEAR_PCT_FIELD_NUMBER: _ClassVar[int]
    AGE_LAPS_FIELD_NUMBER: _ClassVar[int]
    corner: TireCorner
    compound: TireCompound
    surface_temp_c: float
    inner_temp_c: float
    pressure_kpa: float
    wear_pct: float
    age_laps: int
    def __init__(self, corner: _Optional[_Union[TireCorner, str]] = ..., compound: _Optional[_Union[TireCompound, str]] = ..., surface_temp_c: _Optional[float] = ..., inner_temp_c: _Optional[float] = ..., pressure_kpa: _Optional[float] = ..., wear_pct: _Optional[float] = ..., age_laps: _Optional[int] = ...) -> None: ...

class Aerodynamics(_message.Message):
    __slots__ = ("drs_state", "front_wing_angle_deg", "rear_wing_angle_deg", "downforce_n", "drag_n")
    DRS_STATE_FIELD_NUMBER: _ClassVar[int]
    FRONT_WING_ANGLE_DEG_FIELD_NUMBER: _ClassVar[int]
    REAR_WING_ANGLE_DEG_FIELD_NUMBER: _ClassVar[int]
    DOWNFORCE_N_FIELD_NUMBER: _ClassVar[int]
    DRAG_N_FIELD_NUMBER: _ClassVar[int]
    drs_state: DrsState
    front_wing_angle_deg: float
    rear_wing_angle_deg: float
    downforce_n: float
    drag_n: float
    def __init__(self, drs_state: _Optional[_Union[DrsState, str]] = ..., front_wing_angle_deg: _Optional[float] = ..., rear_wing_angle_deg: _Optional[float] = ..., downforce_n: _Optional[float] = ..., drag_n: _Optional[float] = ...) -> None: ...

class SystemEvent(_message.Message):
    __slots__ = ("kind", "flag", "fault_code", "message", "engine_mode", "pit_stop_duration_s", "new_compound", "lap_number")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    FAULT_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_MODE_FIELD_NUMBER: _ClassVar[int]
    PIT_STOP_DURATION_S_FIELD_NUMBER: _ClassVar[int]
    NEW_COMPOUND_FIELD_NUMBER: _ClassVar[int]
    LAP_NUMBER_FIELD_NUMBER: _ClassVar[int]
    kind: SystemEventKind
    flag: Flag
    fault_code: str
    message: str
    engine_mode: int
    pit_stop_duration_s: float
    new_compound: TireCompound
    lap_number: int
    def __init__(self, kind: _Optional[_Union[SystemEventKind, str]] = ..., flag: _Optional[_Union[Flag, str]] = ..., fault_code: _Optional[str] = ..., message: _Optional[str] = ..., engine_mode: _Optional[int] = ..., pit_stop_duration_s: _Optional[float] = ..., new_compound: _Optional[_Union[TireCompound, str]] = ..., lap_number: _Optional[int] = ...) -> None: ...
