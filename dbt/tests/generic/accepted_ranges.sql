{#
  Several columns' accepted ranges in one query (see accepted_range): `ranges` maps a column to
  [min, max], either bound null for none. Nulls pass. Fails with the offending rows.
#}
{% test accepted_ranges(model, ranges) %}
select *
from {{ model }}
where false
{%- for column, bounds in ranges.items() %}
    {%- if bounds[0] is not none %}
    or {{ column }} < {{ bounds[0] }}
    {%- endif %}
    {%- if bounds[1] is not none %}
    or {{ column }} > {{ bounds[1] }}
    {%- endif %}
{%- endfor %}
{% endtest %}
