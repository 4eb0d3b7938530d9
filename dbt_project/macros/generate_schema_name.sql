{# custom schemas are used verbatim (staging, intermediate, reporting, ...) so
   publication and readers can name them without knowing the target schema. On
   PostgreSQL the published schemas build as <schema>__build (var publish_suffix)
   and publication swaps them in. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif custom_schema_name | trim in ('reporting', 'restricted') -%}
        {{ custom_schema_name | trim }}{{ var('publish_suffix', '') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
