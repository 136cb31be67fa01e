{{
    config(
        unique_key=['session_id', 'car_number'],
    )
}}

{#
  One row per session and car, built from lap_metrics and stint_metrics. Incremental runs rebuild the
  cars whose laps were rebuilt.
#}

with

cars as (
    select * from {{ rebuilt_cars(ref('lap_metrics')) }}
),

laps as (
    select /*+ BROADCAST(c) */ l.*
    from {{ ref('lap_metrics') }} as l
    join cars as c on l.session_id = c.session_id and l.car_number = c.car_number
),

stints as (
    select
        s.session_id,
        s.car_number,
        count(*) as stints,
        -- ordered by stint number, the struct's first field
        array_sort(collect_list(named_struct(
            'stint_number', s.stint_number,
            'compound', s.compound,
            'start_lap', s.start_lap,
            'end_lap', s.end_lap,
            'laps', s.laps
        ))) as stint_summary
    from {{ ref('stint_metrics') }} as s
    join cars as c on s.session_id = c.session_id and s.car_number = c.car_number
    group by s.session_id, s.car_number
),

-- Lap times, sectors, speeds and the classification from complete laps only (lap_metrics.is_complete):
-- a lap cut short, with a crossing missing or past the finish would make a best lap, a theoretical best
-- or the final position wrong. Pit stops are events and count on whatever lap they fell.
per_car as (
    select
        session_id,
        car_number,
        max(session_date) as session_date,
        max(circuit) as circuit,
        max(session_type) as session_type,
        max(driver_code) as driver_code,
        max(team) as team,
        count_if(is_complete) as laps_completed,
        count_if(not is_complete) as incomplete_laps,
        min(lap_time_s) filter (where is_complete) as best_lap_time_s,
        -- the earliest lap of the best time, should two laps tie to the nanosecond
        min_by(lap_number, named_struct('t', lap_time_s, 'n', lap_number)) filter (where is_complete)
            as best_lap_number,
        count_if(is_clean_lap) as clean_laps,
        avg(lap_time_s) filter (where is_clean_lap) as mean_clean_lap_s,
        median(lap_time_s) filter (where is_clean_lap) as median_clean_lap_s,
        stddev_samp(lap_time_s) filter (where is_clean_lap) as consistency_s,
        min(sector_1_s) filter (where is_complete)
            + min(sector_2_s) filter (where is_complete)
            + min(sector_3_s) filter (where is_complete) as theoretical_best_s,
        max(top_speed_kmh) filter (where is_complete) as top_speed_kmh,
        max(speed_trap_kmh) filter (where is_complete) as best_speed_trap_kmh,
        sum(pit_stops) as pit_stops,
        max_by(race_position, lap_number) filter (where is_complete) as final_position,
        max(built_at) as laps_built_at
    from laps
    group by session_id, car_number
)

select
    p.session_id,
    p.car_number,
    p.session_date,
    p.circuit,
    p.session_type,
    p.driver_code,
    p.team,
    p.laps_completed,
    p.incomplete_laps,
    p.best_lap_time_s,
    p.best_lap_number,
    p.clean_laps,
    p.mean_clean_lap_s,
    p.median_clean_lap_s,
    p.consistency_s,
    p.theoretical_best_s,
    p.top_speed_kmh,
    p.best_speed_trap_kmh,
    p.pit_stops,
    s.stints,
    s.stint_summary,
    p.final_position,
    p.laps_built_at
from per_car as p
left join stints as s on p.session_id = s.session_id and p.car_number = s.car_number
