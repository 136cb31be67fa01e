-- One row per corner and sample: compound, temperatures, wear and the set's age.
select
    event_id,
    session_id,
    car_number,
    event_time_unix_ns as event_time_ns,
    corner,
    compound,
    surface_temp_c,
    inner_temp_c,
    wear_pct,
    age_laps,
    validated_at
from {{ source('silver', 'tire') }}
