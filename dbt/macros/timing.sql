{#
  Timing helpers for lap_metrics. `x` is a position sample with the car's previous sample beside it
  (prev_time_ns, prev_lap_number, prev_distance_m).
#}

{#
  When the car passed lap distance `boundary_m` between the two samples, interpolated linearly in time;
  null when it did not pass it between them (or the samples straddle the line).
#}
{% macro boundary_crossing_ns(boundary_m) -%}
case
    when x.lap_number = x.prev_lap_number
        and x.prev_distance_m <= {{ boundary_m }}
        and x.lap_distance_m > {{ boundary_m }}
    then x.prev_time_ns + cast(round(
        ({{ boundary_m }} - x.prev_distance_m) / (x.lap_distance_m - x.prev_distance_m)
        * (x.event_time_ns - x.prev_time_ns)) as bigint)
end
{%- endmacro %}


{#
  When the car crossed the line between the two samples: the lap number went up by one and lap distance
  wrapped from near the lap length to near 0, so the distance covered is (length - before) + after.
#}
{% macro line_crossing_ns(circuit_length_m) -%}
case
    when x.lap_number = x.prev_lap_number + 1
    then x.prev_time_ns + cast(round(
        ({{ circuit_length_m }} - x.prev_distance_m)
        / ({{ circuit_length_m }} - x.prev_distance_m + x.lap_distance_m)
        * (x.event_time_ns - x.prev_time_ns)) as bigint)
end
{%- endmacro %}


{# The four tyre corners: column prefix -> silver's corner name. #}
{% macro tyre_corners() -%}
    {{ return({'fl': 'FRONT_LEFT', 'fr': 'FRONT_RIGHT', 'rl': 'REAR_LEFT', 'rr': 'REAR_RIGHT'}) }}
{%- endmacro %}


{#
  Width of the time buckets that attach events to laps, seconds: shorter than any lap, so that a bucket
  holds at most one line crossing; long enough that a lap spans only a few.
#}
{% macro lap_bucket_s() -%}
    {{ return(10) }}
{%- endmacro %}


{# Tyre compounds as silver names them, as a SQL array (aggregations carry a compound as its index). #}
{% macro compounds() -%}
    array('SOFT', 'MEDIUM', 'HARD', 'INTERMEDIATE', 'WET')
{%- endmacro %}


{#
  Each row of `relation` (with event_time_ns) beside the lap it was measured in, [span start, span end)
  (the lap's start and end crossings, or its first and last samples where one was not timed), through
  the broadcast `lap_buckets` of lap_metrics: rows outside every lap are left out.
#}
{% macro assign_laps(relation) -%}
(
    select /*+ BROADCAST(lb) */ lb.lap_number, lb.span_start_ns, lb.span_end_ns, e.*
    from {{ relation }} as e
    join lap_buckets as lb
        on e.session_id = lb.session_id
        and e.car_number = lb.car_number
        and e.event_time_ns div {{ lap_bucket_s() * 1000000000 }} = lb.bucket
    where e.event_time_ns >= lb.span_start_ns and e.event_time_ns < lb.span_end_ns
)
{%- endmacro %}


{# The speed trap's lap distance for the circuit in `circuit_column` (vars speed_trap_m). #}
{% macro speed_trap_m(circuit_column) -%}
case {{ circuit_column }}
    {%- for circuit, metres in var('speed_trap_m').items() %}
    when '{{ circuit }}' then {{ metres }}
    {%- endfor %}
    else {{ var('speed_trap_default_m') }}
end
{%- endmacro %}
