{{
    config(
        unique_key=['session_id', 'car_number', 'lap_number'],
    )
}}

{#
  One row per session, car and lap the position samples show, complete or not.

  A lap is complete (is_complete) when it is a lap of the race distance (not past the session's total_laps:
  the cool-down after the flag, stray records) and the car was timed over it: the line crossing that
  started it (or the start signal, for lap 1 of a race), both sector ends and the crossing that ended it,
  each between two samples at most var max_crossing_gap_s apart. Other laps (cut short, a crossing
  missing, past the finish) are kept with incomplete_reason: their events are attached to them by time
  from their first to their last sample, and whatever needs both ends of the lap (lap and sector times,
  energy over the lap, the position at the line) is null. stint_metrics and session_metrics aggregate
  complete laps only.

  Laps are timed from position samples (10 Hz): the line and sector crossings are interpolated between the
  two samples either side of them. Lap 1 of a race starts at the start signal (the grid is past the line).
  Every other event is attached to its lap by time, [lap start, lap end), through a broadcast join on
  (session, car, 10-second bucket of the event time): each event meets at most two candidate laps, and
  no event is compared with every lap of its car. The four telemetry tables go through that join and one
  hash aggregation together, as one stream.

  Incremental runs rebuild only what new silver rows touch (macros/incremental_scope.sql).
#}

{%- set scope = rebuild_scope() %}
{%- set max_gap_ns = (var('max_crossing_gap_s') * 1000000000) | int %}

with

{{ scope.ctes }}

sessions as (
    select
        session_id,
        session_date,
        circuit,
        session_type,
        circuit_length_m,
        sector_1_end_m,
        sector_2_end_m,
        start_time_ns,
        total_laps,
        {{ speed_trap_m('circuit') }} as speed_trap_m
    from {{ ref('stg_sessions') }}
),

-- Each position sample beside the car's previous one: a timing line lies between them when the lap
-- number goes up (the line) or the distance passes a boundary (sector ends, the speed trap).
samples as (
    select
        p.session_id,
        p.car_number,
        p.event_time_ns,
        p.lap_number,
        p.lap_distance_m,
        p.in_pit_lane,
        p.race_position,
        p.track_status,
        p.driver_code,
        p.team,
        p.validated_at,
        lag(p.event_time_ns) over car_time as prev_time_ns,
        lag(p.lap_number) over car_time as prev_lap_number,
        lag(p.lap_distance_m) over car_time as prev_distance_m,
        lag(p.in_pit_lane) over car_time as prev_in_pit_lane
    from {{ scoped('stg_position', scope) }} as p
    window car_time as (partition by p.session_id, p.car_number order by p.event_time_ns)
),

-- Crossing times interpolated in time between the samples: at 300 km/h a car covers 8 m between two
-- samples, so taking a sample's time instead would be up to 100 ms off. Across a gap in the samples
-- (longer than var max_crossing_gap_s) a crossing is not timed: it is missing.
crossings as (
    select /*+ BROADCAST(s) */
        x.*,
        case when x.event_time_ns - x.prev_time_ns <= {{ max_gap_ns }} then {{ line_crossing_ns('s.circuit_length_m') }} end
            as line_ns,
        case when x.event_time_ns - x.prev_time_ns <= {{ max_gap_ns }} then {{ boundary_crossing_ns('s.sector_1_end_m') }} end
            as sector_1_ns,
        case when x.event_time_ns - x.prev_time_ns <= {{ max_gap_ns }} then {{ boundary_crossing_ns('s.sector_2_end_m') }} end
            as sector_2_ns,
        case
            when x.event_time_ns - x.prev_time_ns <= {{ max_gap_ns }}
                and x.lap_number = x.prev_lap_number
                and x.prev_distance_m <= s.speed_trap_m
                and x.lap_distance_m > s.speed_trap_m
            then (x.lap_distance_m - x.prev_distance_m) / ((x.event_time_ns - x.prev_time_ns) / 1e9) * 3.6
        end as speed_trap_kmh
    from samples as x
    join sessions as s on x.session_id = s.session_id
),

-- Per lap number: the line crossing that started it (the first sample of a lap comes just after the
-- line), its sector crossings, and what the position samples say about the lap.
lap_marks as (
    select
        session_id,
        car_number,
        lap_number,
        driver_code,
        team,
        max(line_ns) as line_ns,
        -- at the crossing that started this lap: in the pit lane just after it (an out-lap), just
        -- before it (the previous lap was an in-lap), and the running position at the line
        max(case when line_ns is not null then in_pit_lane end) as started_in_pit_lane,
        max(case when line_ns is not null then prev_in_pit_lane end) as previous_ended_in_pit_lane,
        max(case when line_ns is not null then race_position end) as position_at_start,
        max(sector_1_ns) as sector_1_ns,
        max(sector_2_ns) as sector_2_ns,
        max(speed_trap_kmh) as speed_trap_kmh,
        bool_or(in_pit_lane) as used_pit_lane,
        bool_and(track_status = 'GREEN') as all_green,
        count(*) as position_samples,
        min(event_time_ns) as first_sample_ns,
        max(event_time_ns) as last_sample_ns,
        max(validated_at) as max_validated_at
    from crossings
    -- driver and team are the car's: grouped by rather than aggregated, so that no aggregation buffer
    -- holds a string and Spark aggregates in a hash map instead of sorting the samples
    group by session_id, car_number, lap_number, driver_code, team
),

timed_laps as (
    select /*+ BROADCAST(s) */
        m.*,
        coalesce(m.line_ns, case when m.lap_number = 1 then s.start_time_ns end) as lap_start_ns,
        -- a lap ends where the next lap number starts
        case when lead(m.lap_number) over car_laps = m.lap_number + 1 then lead(m.line_ns) over car_laps end
            as lap_end_ns,
        lead(m.previous_ended_in_pit_lane) over car_laps as ended_in_pit_lane,
        lead(m.position_at_start) over car_laps as position_at_end,
        s.total_laps
    from lap_marks as m
    join sessions as s on m.session_id = s.session_id
    window car_laps as (partition by m.session_id, m.car_number order by m.lap_number)
),

-- The span events are attached to the lap in: from its start to its end where they were timed, else
-- from its first sample / to just after its last one. Spans never overlap: a lap's end is the next lap's
-- start, and a lap with no timed end is followed by one with no timed start.
all_laps as (
    select
        *,
        coalesce(lap_start_ns, first_sample_ns) as span_start_ns,
        coalesce(lap_end_ns, last_sample_ns + 1) as span_end_ns,
        case
            when total_laps > 0 and lap_number > total_laps then 'after_finish'
            when lap_start_ns is null then 'no_start_crossing'
            when lap_end_ns is null then 'no_end_crossing'
            when sector_1_ns is null or sector_2_ns is null
                or not (lap_start_ns < sector_1_ns and sector_1_ns < sector_2_ns and sector_2_ns < lap_end_ns)
                then 'missing_sector_crossing'
        end as incomplete_reason
    from timed_laps
),

-- Each car's pit stops (a few per race). A stop belongs to the lap in which the car stood in its box:
-- where the box lies past the timing line (Monza), the out-lap; the in-lap is the lap that ended in the
-- pit lane. Every stop of a rebuilt car counts, not only recent ones: each one moves the stint number on.
car_stops as (
    select
        session_id,
        car_number,
        collect_list(named_struct('t', event_time_ns, 'seconds', pit_stop_duration_s, 'validated_at', validated_at))
            as stops
    from {{ scoped('stg_system', scope, all_times=true) }}
    where kind = 'PIT_STOP'
    group by session_id, car_number
),

-- Every lap, complete or not, with its stint and pit stop (by its span).
laps as (
    select /*+ BROADCAST(cs){% if is_incremental() %}, BROADCAST(r){% endif %} */
        l.*,
        1 + case when cs.stops is null then 0 else size(filter(cs.stops, p -> p.t < l.span_end_ns)) end
            as stint_number,
        case when cs.stops is null then 0
            else size(filter(cs.stops, p -> p.t >= l.span_start_ns and p.t < l.span_end_ns)) end as pit_stops,
        aggregate(
            filter(cs.stops, p -> p.t >= l.span_start_ns and p.t < l.span_end_ns),
            cast(null as double),
            (total, p) -> coalesce(total, 0D) + p.seconds
        ) as pit_stop_duration_s,
        array_max(transform(filter(cs.stops, p -> p.t < l.span_end_ns), p -> p.validated_at)) as stops_validated_at
    from all_laps as l
    left join car_stops as cs on l.session_id = cs.session_id and l.car_number = cs.car_number
    {%- if is_incremental() %}
    join rebuild as r
        on l.session_id = r.session_id and l.car_number = r.car_number and l.lap_number > r.after_lap
    {%- endif %}
),

-- Each lap once per {{ lap_bucket_s() }} s of its time span, carrying the lap's own columns: the key of the
-- broadcast join that attaches every event to its lap. A bucket holds at most one line crossing, so an
-- event meets at most two candidate laps, and no event is compared with every lap of its car.
lap_buckets as (
    select
        session_id,
        car_number,
        lap_number,
        span_start_ns,
        span_end_ns,
        explode(sequence(
            span_start_ns div {{ lap_bucket_s() * 1000000000 }},
            (span_end_ns - 1) div {{ lap_bucket_s() * 1000000000 }}
        )) as bucket,
        struct(
            lap_start_ns, lap_end_ns, incomplete_reason,
            line_ns, sector_1_ns, sector_2_ns, speed_trap_kmh, started_in_pit_lane, ended_in_pit_lane,
            used_pit_lane, all_green, position_at_end, driver_code, team, position_samples, stint_number,
            pit_stops, pit_stop_duration_s, max_validated_at, stops_validated_at
        ) as lap
    from laps
),

-- Gear changes need the samples in order: a window over the car's gear alone (a narrow sort), keeping
-- only the samples where the gear differs from the one before.
gear_changes as (
    select session_id, car_number, event_time_ns
    from (
        select
            session_id,
            car_number,
            event_time_ns,
            gear,
            lag(gear) over (partition by session_id, car_number order by event_time_ns) as previous_gear
        from {{ scoped('stg_dynamics', scope) }}
    )
    where gear <> previous_gear
),

-- The car's telemetry, every event type in one stream (a column is null on the other types' rows), so
-- that one broadcast join attaches it to laps and one aggregation sums it up per lap.
telemetry as (
    select
        session_id, car_number, event_time_ns,
        speed_kmh, throttle_pct, brake_pct, lateral_g, longitudinal_g, null as gear_change,
        null as mgu_k_power_kw, null as mgu_h_power_kw, null as fuel_remaining_kg,
        null as corner, null as compound, null as surface_temp_c, null as wear_pct, null as age_laps,
        null as drs_state
    from {{ scoped('stg_dynamics', scope) }}
    union all
    select
        session_id, car_number, event_time_ns,
        null, null, null, null, null, 1,
        null, null, null,
        null, null, null, null, null,
        null
    from gear_changes
    union all
    select
        session_id, car_number, event_time_ns,
        null, null, null, null, null, null,
        mgu_k_power_kw, mgu_h_power_kw, fuel_remaining_kg,
        null, null, null, null, null,
        null
    from {{ scoped('stg_power_unit', scope) }}
    union all
    select
        session_id, car_number, event_time_ns,
        null, null, null, null, null, null,
        null, null, null,
        corner, compound, surface_temp_c, wear_pct, age_laps,
        null
    from {{ scoped('stg_tire', scope) }}
    union all
    select
        session_id, car_number, event_time_ns,
        null, null, null, null, null, null,
        null, null, null,
        null, null, null, null, null,
        drs_state
    from {{ scoped('stg_aerodynamics', scope) }}
),

-- Samples are evenly spaced in time, so a mean over a lap's samples is a time average (energy is the
-- mean power times the lap time) and, gear changes aside, nothing needs the samples in order.
lap_telemetry as (
    select
        -- the keys under other names: lap_rows takes them from the lap, which every lap has
        session_id as telemetry_session_id,
        car_number as telemetry_car_number,
        lap_number as telemetry_lap_number,
        count(speed_kmh) as dynamics_samples,
        max(speed_kmh) as top_speed_kmh,
        avg(speed_kmh) as avg_speed_kmh,
        min(speed_kmh) as min_speed_kmh,
        100 * avg(case when throttle_pct >= {{ var('full_throttle_pct') }} then 1D when throttle_pct is not null then 0D end)
            as full_throttle_pct,
        100 * avg(case when brake_pct > {{ var('braking_threshold_pct') }} then 1D when brake_pct is not null then 0D end)
            as braking_pct,
        count(gear_change) as gear_changes,
        max(abs(lateral_g)) as peak_lateral_g,
        max(abs(longitudinal_g)) as peak_longitudinal_g,
        avg(greatest(mgu_k_power_kw, 0)) as mean_deploy_kw,
        avg(greatest(-mgu_k_power_kw, 0) + greatest(-mgu_h_power_kw, 0)) as mean_harvest_kw,
        min_by(fuel_remaining_kg, event_time_ns) filter (where fuel_remaining_kg is not null) as fuel_start_kg,
        max_by(fuel_remaining_kg, event_time_ns) filter (where fuel_remaining_kg is not null) as fuel_end_kg,
        max_by(array_position({{ compounds() }}, compound), event_time_ns) filter (where compound is not null)
            as tyre_compound_index,
        max_by(age_laps, event_time_ns) filter (where age_laps is not null) as tyre_age_laps,
        {%- for key, corner in tyre_corners().items() %}
        avg(surface_temp_c) filter (where corner = '{{ corner }}') as tyre_{{ key }}_avg_temp_c,
        max(surface_temp_c) filter (where corner = '{{ corner }}') as tyre_{{ key }}_peak_temp_c,
        min_by(wear_pct, event_time_ns) filter (where corner = '{{ corner }}') as tyre_{{ key }}_wear_first_pct,
        max_by(wear_pct, event_time_ns) filter (where corner = '{{ corner }}') as tyre_{{ key }}_wear_last_pct,
        {%- endfor %}
        avg(case when drs_state = 'OPEN' then 1D when drs_state is not null then 0D end) as drs_open_share
    from {{ assign_laps('telemetry') }}
    -- every aggregation buffer is fixed-width (no string), so Spark aggregates in a hash map instead of
    -- sorting the rows; the lap's own columns join back below
    group by session_id, car_number, lap_number
),

-- Each lap once (its first bucket) with its telemetry: a lap without any (stray position records, a
-- lap cut short before its first dynamics sample) is still a lap.
lap_rows as (
    select /*+ BROADCAST(lt) */
        lb.session_id,
        lb.car_number,
        lb.lap_number,
        lb.lap.lap_start_ns,
        lb.lap.lap_end_ns,
        lb.lap,
        lt.*
    from lap_buckets as lb
    left join lap_telemetry as lt
        on lb.session_id = lt.telemetry_session_id
        and lb.car_number = lt.telemetry_car_number
        and lb.lap_number = lt.telemetry_lap_number
    where lb.bucket = lb.span_start_ns div {{ lap_bucket_s() * 1000000000 }}
),

final as (
    select /*+ BROADCAST(s) */
        t.session_id,
        t.car_number,
        t.lap_number,
        s.session_date,
        s.circuit,
        s.session_type,
        t.lap.driver_code,
        t.lap.team,
        t.lap.stint_number,
        t.lap_start_ns,
        t.lap_end_ns,
        (t.lap_end_ns - t.lap_start_ns) / 1e9 as lap_time_s,
        (t.lap.sector_1_ns - t.lap_start_ns) / 1e9 as sector_1_s,
        (t.lap.sector_2_ns - t.lap.sector_1_ns) / 1e9 as sector_2_s,
        (t.lap_end_ns - t.lap.sector_2_ns) / 1e9 as sector_3_s,
        coalesce(t.lap.ended_in_pit_lane, false) as is_in_lap,
        coalesce(t.lap.started_in_pit_lane, false) as is_out_lap,
        t.lap.pit_stops,
        t.lap.pit_stop_duration_s,
        t.lap.incomplete_reason is null as is_complete,
        t.lap.incomplete_reason,
        t.lap.incomplete_reason is null
            and t.lap_number > 1
            and not coalesce(t.lap.ended_in_pit_lane, false)
            and not coalesce(t.lap.started_in_pit_lane, false)
            and not t.lap.used_pit_lane
            and t.lap.all_green as is_clean_lap,
        t.lap.position_at_end as race_position,
        t.top_speed_kmh,
        t.avg_speed_kmh,
        t.min_speed_kmh,
        t.lap.speed_trap_kmh,
        t.full_throttle_pct,
        t.braking_pct,
        coalesce(t.gear_changes, 0) as gear_changes,
        t.drs_open_share * (t.lap_end_ns - t.lap_start_ns) / 1e9 as drs_open_s,
        t.mean_deploy_kw * (t.lap_end_ns - t.lap_start_ns) / 1e9 as ers_deployed_kj,
        t.mean_harvest_kw * (t.lap_end_ns - t.lap_start_ns) / 1e9 as ers_harvested_kj,
        t.fuel_start_kg,
        t.fuel_end_kg,
        t.fuel_start_kg - t.fuel_end_kg as fuel_used_kg,
        -- the lap time without the weight of the fuel on board (at mid-lap), for tyre degradation
        (t.lap_end_ns - t.lap_start_ns) / 1e9
            - {{ var('fuel_effect_s_per_kg') }} * (t.fuel_start_kg + t.fuel_end_kg) / 2
            as fuel_corrected_lap_time_s,
        element_at({{ compounds() }}, cast(t.tyre_compound_index as int)) as tyre_compound,
        t.tyre_age_laps,
        {%- for key in tyre_corners() %}
        t.tyre_{{ key }}_avg_temp_c,
        t.tyre_{{ key }}_peak_temp_c,
        {%- endfor %}
        {%- for key in tyre_corners() %}
        -- wear only grows on one set: a fall means new tyres were fitted during the lap (the out-lap)
        case
            when t.tyre_{{ key }}_wear_last_pct >= t.tyre_{{ key }}_wear_first_pct
            then t.tyre_{{ key }}_wear_last_pct - t.tyre_{{ key }}_wear_first_pct
            else t.tyre_{{ key }}_wear_last_pct
        end as tyre_{{ key }}_wear_pct,
        {%- endfor %}
        t.peak_lateral_g,
        t.peak_longitudinal_g,
        t.lap.position_samples,
        coalesce(t.dynamics_samples, 0) as dynamics_samples,
        -- the newest silver row behind the lap's timing: the watermark incremental builds read from
        greatest(t.lap.max_validated_at, t.lap.stops_validated_at) as max_validated_at,
        current_timestamp() as built_at
    from lap_rows as t
    join sessions as s on t.session_id = s.session_id
)

select * from final
