{#
  None of these columns is null, checked in one query: every test is a Spark job of its own, so a model's
  required non-key columns share one (keys keep their own `not_null` tests). Fails with the offending rows.
#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
