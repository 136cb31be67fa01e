{#
  Every combination of `columns` in the model exists in `to` (a composite-key relationships test):
  e.g. each (session_id, car_number) of a mart is a car that silver has events of.
#}
{% test relationships_multi(model, to, columns) %}
select {{ columns | join(', ') }}
from (select distinct {{ columns | join(', ') }} from {{ model }}) as child
where not exists (
    select 1
    from {{ to }} as parent
    where {% for c in columns %}parent.{{ c }} = child.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
)
{% endtest %}
