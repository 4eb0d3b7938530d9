{#-
  DuckDB tables in one statement. The adapter's own table materialization builds a temporary
  table, renames the old one aside, renames the new one in and drops the old one: five
  statements and as many adapter macro calls per model, each of which rebuilds dbt's macro
  context. DuckDB replaces a table atomically inside the transaction (readers see the old
  table or the new one), so that dance buys nothing here and costs a third of the build's
  Python time. Postgres keeps dbt's materialization (its swap is what makes it atomic there).
-#}
{% materialization table, adapter="duckdb", supported_languages=['sql'] %}
  {%- if config.get('contract').enforced -%}
    {{ exceptions.raise_compiler_error(
        "model " ~ this ~ ": contracts are not supported by this project's DuckDB table "
        ~ "materialization (dbt_project/macros/materializations/table_duckdb.sql)") }}
  {%- endif -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {#- a view of that name (an older build's staging) cannot be replaced by a table -#}
  {%- if existing_relation is not none and not existing_relation.is_table -%}
    {{ adapter.drop_relation(existing_relation) }}
  {%- endif -%}

  {% call statement('main') -%}
    create or replace table {{ target_relation }} as (
      {{ compiled_code }}
    );
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do apply_grants(target_relation, config.get('grants'), should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
