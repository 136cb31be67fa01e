{#
  Schemas are used exactly as configured: marts land in `gold` (the profile's schema) and staging views in
  `gold_staging`, on every target. dbt's default would prefix a custom schema with the target's
  (`gold_gold_staging`), which is right for per-developer schemas on a shared warehouse, not here: the
  catalog is per platform, and its databases are named by the medallion layer.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
