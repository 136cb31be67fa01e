{{
    config(
        unique_key=['session_id', 'car_number', 'stint_number'],
    )
}}

{#
  One row per session, car and stint (a run on one set of tyres, between pit stops), built from the
  complete laps of lap_metrics (is_complete): a lap cut short, with a crossing missing or past the finish
  has no lap time to average and would stretch the stint. Incremental runs rebuild every stint of the cars
  whose laps were rebuilt.
#}

with

laps as (
    select /*+ BROADCAST(c) */ l.*
    from {{ ref('lap_metrics') }} as l
    join {{ rebuilt_cars(ref('lap_metrics')) }} as c
        on l.session_id = c.session_id and l.car_number = c.car_number
),

-- the newest build of any of the car's laps, complete or not: what rebuilt_cars compares with next time
cars as (
    select session_id, car_number, max(built_at) as laps_built_at
    from laps
    group by session_id, car_number
),

stints as (
    select
        session_id,
        car_number,
        stint_number,
        max(session_date) as session_date,
        max(driver_code) as driver_code,
        max(team) as team,
        -- a lap's compound is the one it finished on: the out-lap's is the new set's
        max_by(tyre_compound, lap_number) as compound,
        min(lap_number) as start_lap,
        max(lap_number) as end_lap,
        count(*) as laps,
        count_if(is_clean_lap) as clean_laps,
        max(tyre_age_laps) as max_tyre_age_laps,
        avg(lap_time_s) filter (where is_clean_lap) as mean_clean_lap_s,
        min(lap_time_s) filter (where is_clean_lap) as best_clean_lap_s,
        -- the degradation rate: least-squares slope of the fuel-corrected lap time against tyre age
        -- over the stint's clean laps (null with fewer than two)
        regr_slope(fuel_corrected_lap_time_s, tyre_age_laps) filter (where is_clean_lap)
            as degradation_s_per_lap,
        regr_slope(lap_time_s, tyre_age_laps) filter (where is_clean_lap) as raw_trend_s_per_lap,
        regr_r2(fuel_corrected_lap_time_s, tyre_age_laps) filter (where is_clean_lap) as degradation_r2,
        sum(fuel_used_kg) as fuel_used_kg
    from laps
    where is_complete
    group by session_id, car_number, stint_number
)

select /*+ BROADCAST(c) */ s.*, c.laps_built_at
from stints as s
join cars as c on s.session_id = c.session_id and s.car_number = c.car_number
