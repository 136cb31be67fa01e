-- Discrete events: pit lane entry and exit, pit stops (with the stationary time), flags, faults.
select
    event_id,
    session_id,
    car_number,
    event_time_unix_ns as event_time_ns,
    kind,
    flag,
    pit_stop_duration_s,
    new_compound,
    lap_number,
    validated_at
from {{ source('silver', 'system') }}
