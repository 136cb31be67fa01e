-- One row per session: circuit geometry (length, sector ends) and the start signal's time.
select
    session_id,
    circuit,
    circuit_length_m,
    session_type,
    session_date,
    start_time,
    start_time_unix_ns as start_time_ns,
    total_laps,
    sector_end_m[0] as sector_1_end_m,
    sector_end_m[1] as sector_2_end_m,
    updated_at
from {{ source('silver', 'sessions') }}
