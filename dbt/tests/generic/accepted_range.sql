{#
  Every non-null value of the column lies within [min_value, max_value] (either bound may be left out).
  The local equivalent of dbt_utils.accepted_range: the dbt hub cannot be reached from this platform.
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not (
    1 = 1
    {%- if min_value is not none %}
    and {{ column_name }} >{{ "=" if inclusive }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    and {{ column_name }} <{{ "=" if inclusive }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
