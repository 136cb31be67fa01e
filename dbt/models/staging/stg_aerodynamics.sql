-- DRS state (UNAVAILABLE, AVAILABLE, OPEN).
select
    event_id,
    session_id,
    car_number,
    event_time_unix_ns as event_time_ns,
    drs_state,
    validated_at
from {{ source('silver', 'aerodynamics') }}
