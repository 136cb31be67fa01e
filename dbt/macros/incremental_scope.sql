{#
  How lap_metrics finds what to rebuild in an incremental run.

  Each lap keeps the newest `validated_at` of its position samples (and pit stops); the table's watermark
  W is the newest over all laps, so no later than the newest silver row the last build saw. Silver
  commits its micro-batches in order, each to every table, so every row of any table that the last build
  did not see (it landed later, or its batch was still committing) has a validated_at at or after W:
  those are the new rows (`>=`, not `>`; rows at W the build did see are merely read again). Each car with new
  rows is rebuilt from the last lap that ended more than `recompute_margin_s` before its first new event
  (the samples either side of that lap's line crossing are older than the new rows); the laps before it
  stay. A live race costs about one lap per car, not the whole race, and every rebuilt lap is rebuilt
  whole, from all of its rows, exactly as a full refresh computes it.

  W and the earliest event time to read are looked up before the model's query runs and written into it
  as literals, so that Delta skips the files whose validated_at / event_time statistics lie before them
  (a join condition would not prune files).
#}

{# The silver event tables gold reads, as staging models: one per event type (macros/event_types.sql). #}
{% macro event_models() -%}
    {%- set models = [] -%}
    {%- for event_type in event_types() -%}
        {%- do models.append('stg_' ~ event_type) -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}


{% macro _scalar(sql) -%}
    {%- set result = run_query(sql) -%}
    {{ return(result.columns[0].values()[0] if result is not none and result.rows | length > 0 else none) }}
{%- endmacro %}


{#
  The rebuild scope of an incremental run of lap_metrics, as a dict:
    ctes     the CTE `rebuild` (session_id, car_number, after_lap, from_ns), ending with a comma: the cars
             to rebuild, the last lap of each that stays, the earliest event time to read;
    from_ns  the earliest from_ns over the cars (a literal bound for file skipping).
  The scope is computed before the model's query and written into it as a VALUES list (up to
  `max_inline_cars` cars; a large backfill keeps it a query), so that the model's query does not compute it
  again for each table it joins it with. In a full build: no CTE and no bound.
#}
{% macro rebuild_scope(max_inline_cars=5000) -%}
{%- if not is_incremental() -%}
    {{ return({'ctes': '', 'from_ns': none}) }}
{%- endif -%}
{%- set margin_ns = var('recompute_margin_s') * 1000000000 -%}
{%- set watermark_us = _scalar(
    "select unix_micros(max(max_validated_at) - interval " ~ var('lookback_minutes') ~ " minutes) from " ~ this
) if execute else none -%}
{%- set query -%}
with new_rows as (
    select session_id, car_number, min(event_time_ns) as first_new_ns
    from (
        {%- for model in event_models() %}
        select session_id, car_number, event_time_ns from {{ ref(model) }}
        {%- if watermark_us is not none %}
        where validated_at >= timestamp_micros({{ watermark_us }})
        {%- endif %}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    )
    group by session_id, car_number
)
select
    n.session_id,
    n.car_number,
    coalesce(max(kept.lap_number), 0) as after_lap,
    coalesce(max(kept.lap_end_ns) - {{ margin_ns }}, -9223372036854775807) as from_ns
from new_rows as n
left join {{ this }} as kept
    on kept.session_id = n.session_id
    and kept.car_number = n.car_number
    and kept.lap_end_ns < n.first_new_ns - {{ margin_ns }}
group by n.session_id, n.car_number
{%- endset -%}
{%- set rows = run_query(query ~ " limit " ~ (max_inline_cars + 1)).rows if execute else [] -%}
{%- if rows | length > max_inline_cars -%}
    {%- set ctes = "rebuild as (" ~ query ~ ")," -%}
    {%- set from_ns = _scalar("select min(from_ns) from (" ~ query ~ ")") -%}
{%- elif rows | length > 0 -%}
    {%- set values = [] -%}
    {%- for r in rows -%}
        {%- do values.append("('" ~ (r[0] | replace("'", "\\'")) ~ "', " ~ r[1] ~ ", " ~ r[2] ~ ", " ~ r[3] ~ ")") -%}
    {%- endfor -%}
    {%- set ctes = "rebuild as (select * from values " ~ (values | join(", ")) ~ " as rebuild(session_id, car_number, after_lap, from_ns))," -%}
    {%- set from_ns = rows | map(attribute=3) | min -%}
{%- else -%}
    {# nothing new: an empty scope, and a bound that skips every file #}
    {%- set ctes = "rebuild as (select '' as session_id, 0 as car_number, 0 as after_lap, 0L as from_ns where false)," -%}
    {%- set from_ns = none -%}
{%- endif -%}
{{ return({'ctes': ctes, 'from_ns': from_ns}) }}
{%- endmacro %}


{#
  The rows of a staging model that the build reads: all of them in a full build; in an incremental one,
  only the cars in `rebuild`, from their `from_ns` on (`all_times`: at any time, for small tables).
#}
{% macro scoped(model, scope, all_times=false) -%}
{%- if is_incremental() -%}
(
    select /*+ BROADCAST(r) */ x.*
    from {{ ref(model) }} as x
    join rebuild as r on x.session_id = r.session_id and x.car_number = r.car_number
    {%- if not all_times %}
    where x.event_time_ns >= r.from_ns
        -- the same bound as a literal, for Delta's file skipping (no car to rebuild: read nothing)
        and x.event_time_ns >= {{ scope.from_ns if scope.from_ns is not none else 9223372036854775807 }}
    {%- endif %}
)
{%- else -%}
{{ ref(model) }}
{%- endif -%}
{%- endmacro %}


{#
  Cars whose laps lap_metrics rebuilt since this model last ran (lap_metrics stamps every row it writes
  with the build's `built_at`): a relation of (session_id, car_number). All cars in a full build.
#}
{% macro rebuilt_cars(laps) -%}
{%- if is_incremental() -%}
(
    select l.session_id, l.car_number
    from {{ laps }} as l
    left join (
        select session_id, car_number, max(laps_built_at) as laps_built_at
        from {{ this }}
        group by session_id, car_number
    ) as t
        on l.session_id = t.session_id and l.car_number = t.car_number
    group by l.session_id, l.car_number
    having max(t.laps_built_at) is null or max(l.built_at) > max(t.laps_built_at)
)
{%- else -%}
(select distinct session_id, car_number from {{ laps }})
{%- endif -%}
{%- endmacro %}
