{# custom schemas are used verbatim (staging, intermediate, reporting, ...) so
   publication and readers can name them without knowing the target schema #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
