-- Position samples: lap number and distance along the lap, from which gold times laps and sectors.
select
    event_id,
    session_id,
    car_number,
    session_date,
    event_time_unix_ns as event_time_ns,
    lap_number,
    lap_distance_m,
    in_pit_lane,
    race_position,
    track_status,
    driver_code,
    team,
    validated_at
from {{ source('silver', 'position') }}
