-- Speed, driver inputs, gear and g-forces.
select
    event_id,
    session_id,
    car_number,
    event_time_unix_ns as event_time_ns,
    speed_kmh,
    throttle_pct,
    brake_pct,
    gear,
    lateral_g,
    longitudinal_g,
    validated_at
from {{ source('silver', 'dynamics') }}
