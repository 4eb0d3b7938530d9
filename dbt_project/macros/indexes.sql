{# A plain (not unique) index on `columns`, on PostgreSQL only: the checks' reference rules
   ask, for every row of a fact, whether its key exists in a dimension (a correlated EXISTS),
   which PostgreSQL runs as one scan of the dimension per row without an index on its key
   (large: 800,000 completions x 100,000 employees). DuckDB decorrelates the same query and
   needs none. Not unique: a duplicate key is the uniqueness check's to report, not a build failure. #}
{% macro postgres_index(columns) -%}
    {{ return([{'columns': columns}] if target.type == 'postgres' else []) }}
{%- endmacro %}
