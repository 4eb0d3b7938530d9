{# Portable JSON access. Raw payloads are DuckDB JSON / Postgres jsonb. #}

{% macro _json_path_list(path) -%}
    {%- if path is string -%}{{ return([path]) }}{%- else -%}{{ return(path) }}{%- endif -%}
{%- endmacro %}

{# json_text(column, ['a', 'b']) -> the text at payload.a.b (null when absent) #}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'hris_lms_bridge')(column, _json_path_list(path))) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    ({{ column }} #>> '{ {%- for p in path -%}"{{ p }}"{%- if not loop.last -%},{%- endif -%}{%- endfor -%} }')
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, {{ _duckdb_json_path(path) }})
{%- endmacro %}

{% macro _duckdb_json_path(path) -%}
    '$ {%- for p in path -%}."{{ p }}"{%- endfor -%}'
{%- endmacro %}

{# json_text_columns(column, {'alias': path, ...}) -> a select list: the text at each path
   as a column (null when absent). Use it for the many fields of a large feed: DuckDB then
   parses each document once for all of them (one json_extract_string over the list of
   paths, an expression it evaluates once per row), where separate json_text calls parse it
   once per field, four times the cost on xAPI statements. #}
{% macro json_text_columns(column, fields) -%}
    {{ return(adapter.dispatch('json_text_columns', 'hris_lms_bridge')(column, fields)) }}
{%- endmacro %}

{% macro default__json_text_columns(column, fields) -%}
    {%- for alias, path in fields.items() %}
        {{ default__json_text(column, _json_path_list(path)) }} as {{ alias }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro duckdb__json_text_columns(column, fields) -%}
    {%- set paths = [] -%}
    {%- for path in fields.values() -%}
        {%- do paths.append(_duckdb_json_path(_json_path_list(path)) | trim) -%}
    {%- endfor -%}
    {%- for alias in fields %}
        json_extract_string({{ column }}, [{{ paths | join(', ') }}])[{{ loop.index }}] as {{ alias }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{# json_value(column, path) -> the JSON value at the path (for nested objects/arrays) #}
{% macro json_value(column, path) -%}
    {{ return(adapter.dispatch('json_value', 'hris_lms_bridge')(column, _json_path_list(path))) }}
{%- endmacro %}

{% macro default__json_value(column, path) -%}
    ({{ column }} #> '{ {%- for p in path -%}"{{ p }}"{%- if not loop.last -%},{%- endif -%}{%- endfor -%} }')
{%- endmacro %}

{% macro duckdb__json_value(column, path) -%}
    json_extract({{ column }}, {{ _duckdb_json_path(path) }})
{%- endmacro %}

{# json_array_join(column, path, alias): a lateral join with one row per element
   of the array at path; the element is alias.value (JSON) and its 0-based
   position json_array_index(alias). Missing or non-array values give no rows. #}
{% macro json_array_join(column, path, alias) -%}
    {{ return(adapter.dispatch('json_array_join', 'hris_lms_bridge')(column, _json_path_list(path), alias)) }}
{%- endmacro %}

{% macro default__json_array_join(column, path, alias) -%}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ json_value(column, path) }}) = 'array'
             then {{ json_value(column, path) }} else '[]'::jsonb end
    ) with ordinality as {{ alias }}(value, ordinal)
{%- endmacro %}

{% macro duckdb__json_array_join(column, path, alias) -%}
    cross join json_each({{ column }}, {{ _duckdb_json_path(path) }}) as {{ alias }}
{%- endmacro %}

{% macro json_array_index(alias) -%}
    {{ return(adapter.dispatch('json_array_index', 'hris_lms_bridge')(alias)) }}
{%- endmacro %}

{% macro default__json_array_index(alias) -%}
    ({{ alias }}.ordinal - 1)
{%- endmacro %}

{% macro duckdb__json_array_index(alias) -%}
    cast({{ alias }}.key as integer)
{%- endmacro %}
